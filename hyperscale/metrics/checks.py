"""A threshold's verdict, shared by `metrics alb` and `metrics db`: each domain lists its
threshold checks in one registry, callables that take the figures and the limits and return
these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ThresholdCheck:
    #: What is judged: "connections", "replication lag", "p95"...
    name: str
    #: Which server, instance or load balancer it is about.
    subject: str
    #: The figure as measured (None: unknown), and the limit it was held to.
    value: float | str | None
    limit: str
    breached: bool
    detail: str = ""

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "subject": self.subject,
            "value": self.value,
            "limit": self.limit,
            "breached": self.breached,
            "detail": self.detail,
        }


def render_checks(console: Any, checks: list[ThresholdCheck]) -> None:
    from rich.table import Table
    from rich.text import Text

    if not checks:
        return
    table = Table(title="thresholds", title_justify="left")
    for column in ("check", "subject", "value", "limit", "verdict"):
        table.add_column(column)
    for c in checks:
        value = (
            "-"
            if c.value is None
            else f"{c.value:.4g}"
            if isinstance(c.value, float)
            else str(c.value)
        )
        verdict = Text("BREACHED", style="bold red") if c.breached else Text("ok", style="green")
        if c.detail:
            verdict.append(f" ({c.detail})")
        table.add_row(c.name, c.subject, value, c.limit, verdict)
    console.print(table)
