"""The typed result of `hyperscale kafka topics apply|diff`: data, table and exit code."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.reconcile import ReconcileMode
from hyperscale.kafka.topics.plan import ConfigChange, TopicAction, TopicDiff

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class TopicsResult:
    environment: str
    bootstrap: str
    mode: ReconcileMode
    prune: bool
    topics: list[TopicDiff]

    @property
    def pending(self) -> list[TopicDiff]:
        return [d for d in self.topics if d.pending]

    @property
    def refused(self) -> list[TopicDiff]:
        return [d for d in self.topics if d.refused]

    @property
    def applied(self) -> bool:
        return self.mode is ReconcileMode.APPLY and bool(self.pending)

    @property
    def exit_code(self) -> ExitCode:
        if self.refused or (self.mode is ReconcileMode.DIFF and self.pending):
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def names(self, action: TopicAction) -> list[str]:
        return [d.name for d in self.topics if d.action is action]

    def to_data(self) -> dict[str, Any]:
        counts = Counter(d.action.value for d in self.topics)
        return {
            "environment": self.environment,
            "bootstrap": self.bootstrap,
            "mode": self.mode.value,
            "prune": self.prune,
            "applied": self.applied,
            "in_sync": not self.pending and not self.refused,
            "summary": {action.value: counts.get(action.value, 0) for action in TopicAction},
            "topics": [d.to_data() for d in self.topics],
        }

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=f"topics on {escape(self.bootstrap)} ({self.environment})")
        for column in ("topic", "action", "partitions", "replicas", "configs"):
            table.add_column(column, overflow="fold")
        for d in self.topics:
            table.add_row(
                escape(d.name),
                _action_cell(d),
                _arrow(*d.partitions),
                _arrow(*d.replication_factor),
                escape("\n".join(_config_line(d, c) for c in d.configs)),
            )
        console.print(table)
        for d in self.topics:
            for reason in d.refused:
                console.print(f"[bold red]refused[/] {escape(d.name)}: {escape(reason)}")
            if d.left_alone:
                kept = ", ".join(f"{k}={v}" for k, v in d.left_alone.items())
                console.print(
                    f"left alone on {escape(d.name)} (set on the topic, not in the template):"
                    f" {escape(kept)}"
                )
            if d.action is TopicAction.ORPHAN:
                console.print(
                    f"orphan {escape(d.name)}: managed but no longer in the template; kept"
                    " (delete with --prune --yes)"
                )
        console.print(self._summary())

    def _summary(self) -> str:
        if not self.pending:
            return "in sync: nothing to change" if not self.refused else "nothing changed"
        counts = Counter(d.action.value for d in self.pending)
        what = ", ".join(f"{n} to {a}" for a, n in sorted(counts.items()))
        if self.mode is ReconcileMode.APPLY:
            done = ", ".join(f"{n} {a}d" for a, n in sorted(counts.items()))
            return f"applied: {done}"
        return f"not applied ({self.mode.value}): {what}"


def _action_cell(diff: TopicDiff) -> str:
    colour = {
        TopicAction.CREATE: "green",
        TopicAction.UPDATE: "yellow",
        TopicAction.DELETE: "red",
        TopicAction.ORPHAN: "magenta",
    }.get(diff.action, "default")
    refused = " (refused)" if diff.refused else ""
    return f"[{colour}]{diff.action.value}[/]{refused}"


def _arrow(current: int | None, desired: int | None) -> str:
    if current == desired or desired is None:
        return "-" if current is None else str(current)
    return f"{'-' if current is None else current} -> {desired}"


def _config_line(diff: TopicDiff, change: ConfigChange) -> str:
    if diff.action is TopicAction.CREATE:
        return f"{change.key}={change.desired}"
    before = change.current if change.current is not None else f"(default {change.effective})"
    return f"{change.key}: {before} -> {change.desired}"
