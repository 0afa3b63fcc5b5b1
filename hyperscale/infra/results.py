"""Typed results of `hyperscale infra`: per-component outcomes, the data and the tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class ComponentStatus(StrEnum):
    """One word per outcome (part of the v1 envelope)."""

    NO_CHANGES = "no_changes"  # plan: infrastructure matches the configuration
    CHANGES = "changes"  # plan: changes pending (or drift to reconcile)
    BLOCKED = "blocked"  # plan: an upstream output it needs does not exist yet
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # apply: the plan was empty, nothing applied
    FAILED = "failed"
    NOT_RUN = "not_run"  # an earlier component failed (apply) or an upstream did (plan)
    EXCLUDED = "excluded"  # left out by the environment (infra.excluded_modules)
    DESTROYED = "destroyed"


@dataclass(frozen=True)
class ComponentOutcome:
    name: str
    status: ComponentStatus
    add: int = 0
    change: int = 0
    destroy: int = 0
    #: Resources changed outside Terraform since the last apply.
    drift: list[str] = field(default_factory=list)
    #: "action address" per resource the plan touches.
    resources: list[str] = field(default_factory=list)
    output_changes: list[str] = field(default_factory=list)
    message: str | None = None
    seconds: float = 0.0

    def to_data(self) -> dict[str, Any]:
        return {
            "module": self.name,
            "status": self.status.value,
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "drift": self.drift,
            "resources": self.resources,
            "output_changes": self.output_changes,
            "message": self.message,
            "seconds": round(self.seconds, 2),
        }


@dataclass(frozen=True)
class StackRun:
    """A plan or an apply over the stack's components, in the order they ran."""

    action: str  # "plan", "apply" or "destroy"
    environment: str
    stack_dir: str
    components: list[ComponentOutcome]

    @property
    def failed(self) -> ComponentOutcome | None:
        """The module terraform failed in, or (apply) the one whose upstream is not applied."""
        stops = {ComponentStatus.FAILED}
        if self.action in ("apply", "destroy"):
            stops.add(ComponentStatus.BLOCKED)
        return next((c for c in self.components if c.status in stops), None)

    @property
    def exit_code(self) -> ExitCode:
        failed = self.failed
        if failed is not None:
            # Blocked: apply the upstream first (or fix stack.yaml), a fix in the user's hands.
            blocked = failed.status is ComponentStatus.BLOCKED
            return ExitCode.USAGE if blocked else ExitCode.EXTERNAL
        pending = {ComponentStatus.CHANGES, ComponentStatus.BLOCKED}
        if any(c.status in pending for c in self.components):
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def failure_line(self) -> str | None:
        failed = self.failed
        if failed is None:
            return None
        verb = "failed in" if self.action == "plan" else "stopped at"
        return f"{self.action} {verb} module {failed.name}: {failed.message}"

    def to_data(self) -> dict[str, Any]:
        failed = self.failed
        return {
            "action": self.action,
            "environment": self.environment,
            "stack_dir": self.stack_dir,
            "modules": [c.to_data() for c in self.components],
            "totals": {
                kind: sum(getattr(c, kind) for c in self.components)
                for kind in ("add", "change", "destroy")
            },
            "failed": None
            if failed is None
            else {"module": failed.name, "message": failed.message},
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        table = Table(title=f"terraform {self.action}: {self.environment}", title_justify="left")
        for column in ("module", "status", "add", "change", "destroy", "drift", "seconds"):
            table.add_column(
                column, justify="right" if column not in ("module", "status") else "left"
            )
        for c in self.components:
            table.add_row(
                c.name,
                c.status.value.replace("_", " "),
                str(c.add),
                str(c.change),
                str(c.destroy),
                str(len(c.drift)),
                f"{c.seconds:.1f}",
            )
        console.print(table)
        if self.action == "plan":  # what would change, by address: drift is named here
            for c in self.components:
                for change in [*c.resources, *(f"drifted {address}" for address in c.drift)]:
                    console.print(f"{c.name}: {change}", markup=False)
        for c in self.components:
            if c.message and c is not self.failed:
                console.print(f"{c.name}: {c.message}", markup=False)
        line = self.failure_line()
        if line:
            console.print(line, markup=False)


@dataclass(frozen=True)
class ComponentOutputs:
    name: str
    #: name -> value; sensitive values are replaced, never shown.
    values: dict[str, Any]
    sensitive: list[str]


SENSITIVE_PLACEHOLDER = "(sensitive)"


@dataclass(frozen=True)
class StackOutputs:
    environment: str
    components: list[ComponentOutputs]
    exit_code: ExitCode = ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "modules": {
                c.name: {"outputs": c.values, "sensitive": c.sensitive} for c in self.components
            },
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        table = Table(title=f"terraform outputs: {self.environment}", title_justify="left")
        for column in ("module", "output", "value"):
            table.add_column(column, overflow="fold")
        for c in self.components:
            for name, value in c.values.items():
                shown = value if isinstance(value, str) else json.dumps(value)
                table.add_row(c.name, name, shown)
        console.print(table)
