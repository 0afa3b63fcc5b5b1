"""Typed results of `hyperscale metrics alb`: the window's figures and the threshold checks."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.metrics.checks import ThresholdCheck, render_checks

if TYPE_CHECKING:
    from rich.console import Console


def worst(values: list[float]) -> float | None:
    return max(values) if values else None


@dataclass(frozen=True)
class TargetGroupHealth:
    name: str
    #: The latest period's fewest healthy and most unhealthy hosts; None: no datapoint.
    healthy: int | None
    unhealthy: int | None


@dataclass(frozen=True)
class AlbReport:
    environment: str
    load_balancer: str
    dns_name: str
    start: float
    end: float
    period_s: int
    requests: int
    requests_per_s: float
    #: The worst period's percentiles of TargetResponseTime, in milliseconds (None: no traffic).
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    p95_latest_ms: float | None
    target_5xx: int
    elb_5xx: int
    #: (target + ELB 5xx) / requests over the window; None without requests.
    rate_5xx: float | None
    #: The highest per-period rate from CloudWatch's metric math.
    worst_period_rate_5xx: float | None
    rejected_connections: int
    target_connection_errors: int
    target_groups: list[TargetGroupHealth]
    checks: list[ThresholdCheck] = field(default_factory=list)

    def judged(self, checks: list[ThresholdCheck]) -> AlbReport:
        return replace(self, checks=checks)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.CHECK_FAILED if any(c.breached for c in self.checks) else ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"] = _iso(self.start)
        data["end"] = _iso(self.end)
        data["requests_per_s"] = round(self.requests_per_s, 3)
        data["checks"] = [c.to_data() for c in self.checks]
        data["breached"] = [c.name for c in self.checks if c.breached]
        return data

    def render(self, console: Console) -> None:
        from rich.table import Table

        title = (
            f"{self.load_balancer} ({self.environment}): {_iso(self.start)} to {_iso(self.end)},"
            f" {self.period_s}s periods"
        )
        table = Table(title=title, title_justify="left")
        table.add_column("figure")
        table.add_column("value", justify="right")
        for label, value in (
            ("requests", f"{self.requests} ({self.requests_per_s:.2f}/s)"),
            ("response time p50 (worst period)", _ms(self.p50_ms)),
            ("response time p95 (worst period)", _ms(self.p95_ms)),
            ("response time p95 (latest period)", _ms(self.p95_latest_ms)),
            ("response time p99 (worst period)", _ms(self.p99_ms)),
            ("target 5xx", str(self.target_5xx)),
            ("ELB 5xx", str(self.elb_5xx)),
            ("5xx rate (window)", _pct(self.rate_5xx)),
            ("5xx rate (worst period)", _pct(self.worst_period_rate_5xx)),
            ("rejected connections", str(self.rejected_connections)),
            ("target connection errors", str(self.target_connection_errors)),
        ):
            table.add_row(label, value)
        for group in self.target_groups:
            table.add_row(
                f"hosts in {group.name} (healthy/unhealthy)",
                f"{_count(group.healthy)}/{_count(group.unhealthy)}",
            )
        console.print(table)
        render_checks(console, self.checks)


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


def _ms(value: float | None) -> str:
    return "- (no traffic)" if value is None else f"{value:.1f} ms"


def _pct(value: float | None) -> str:
    return "- (no traffic)" if value is None else f"{value * 100:.3f}%"


def _count(value: int | None) -> str:
    return "-" if value is None else str(value)
