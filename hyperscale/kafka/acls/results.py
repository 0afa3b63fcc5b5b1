"""The typed result of `hyperscale kafka acls apply|diff`: data, table and exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.acls.grants import AclAction, AclChange
from hyperscale.kafka.reconcile import ReconcileMode

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class AclsResult:
    environment: str
    bootstrap: str
    mode: ReconcileMode
    prune: bool
    principals: list[str]
    changes: list[AclChange]

    @property
    def pending(self) -> list[AclChange]:
        """What apply changes: creations, and deletions when pruning."""
        return [c for c in self.changes if c.action in (AclAction.CREATE, AclAction.DELETE)]

    @property
    def extras(self) -> list[AclChange]:
        """Rights the environment does not grant, kept (not pruning)."""
        return [c for c in self.changes if c.action is AclAction.EXTRA]

    @property
    def applied(self) -> bool:
        return self.mode is ReconcileMode.APPLY and bool(self.pending)

    @property
    def exit_code(self) -> ExitCode:
        if self.mode is ReconcileMode.DIFF and (self.pending or self.extras):
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        counts = Counter(c.action.value for c in self.changes)
        return {
            "environment": self.environment,
            "bootstrap": self.bootstrap,
            "mode": self.mode.value,
            "prune": self.prune,
            "principals": self.principals,
            "applied": self.applied,
            "in_sync": not self.pending and not self.extras,
            "summary": {action.value: counts.get(action.value, 0) for action in AclAction},
            "acls": [c.to_data() for c in self.changes],
        }

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"ACLs on {escape(self.bootstrap)} ({self.environment})")
        for column in ("principal", "action", "operation", "resource", "pattern"):
            table.add_column(column, overflow="fold")
        colour = {
            AclAction.CREATE: "green",
            AclAction.DELETE: "red",
            AclAction.EXTRA: "magenta",
            AclAction.KEEP: "default",
        }
        for c in self.changes:
            table.add_row(
                escape(c.rule.principal),
                f"[{colour[c.action]}]{c.action.value}[/]",
                f"{c.rule.permission} {c.rule.operation}",
                escape(f"{c.rule.resource_type} {c.rule.resource_name}"),
                c.rule.pattern_type,
            )
        console.print(table)
        if self.extras:
            console.print(
                f"{len(self.extras)} ACL(s) not granted by the environment, kept"
                " (delete them with --prune --yes)"
            )
        console.print(self._summary())

    def _summary(self) -> str:
        if not self.pending:
            return "nothing to change" if self.extras else "in sync: nothing to change"
        counts = Counter(c.action.value for c in self.pending)
        if self.mode is ReconcileMode.APPLY:
            return "applied: " + ", ".join(f"{n} {a}d" for a, n in sorted(counts.items()))
        what = ", ".join(f"{n} to {a}" for a, n in sorted(counts.items()))
        return f"not applied ({self.mode.value}): {what}"
