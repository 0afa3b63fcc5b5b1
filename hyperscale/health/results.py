"""Typed results of `hyperscale health`: per endpoint and for the run, as data, a table, and
Prometheus gauges for a node_exporter textfile collector."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.exposition import GaugeFamily, exposition_text
from hyperscale.health.conditions import ConditionResult, Outcome
from hyperscale.health.thresholds import State

if TYPE_CHECKING:
    from rich.console import Console

METRIC_PREFIX = "hyperscale_health"
_LABELS = ("endpoint", "url")
_STYLE = {State.UP: "green", State.DEGRADED: "yellow", State.DOWN: "bold red"}


@dataclass(frozen=True)
class EndpointHealth:
    name: str
    url: str
    source: str
    state: State
    #: Why it is not UP (the failing or warning conditions), or a note on how it got there.
    reason: str
    status_code: int | None
    latency_ms: float | None
    cert_not_after: float | None
    cert_days: float | None
    attempts: int
    failed_attempts: int
    conditions: list[ConditionResult] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "url": self.url,
            "source": self.source,
            "state": self.state.value,
            "reason": self.reason,
            "status_code": self.status_code,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 1),
            "cert_expires_in_days": None if self.cert_days is None else round(self.cert_days, 2),
            "attempts": self.attempts,
            "failed_attempts": self.failed_attempts,
            "conditions": [
                {"name": c.name, "outcome": c.outcome.name.lower(), "detail": c.detail}
                for c in self.conditions
            ],
        }


@dataclass(frozen=True)
class HealthReport:
    environment: str
    endpoints: list[EndpointHealth]
    fail_on_degraded: bool
    #: Seconds since the epoch when the round started, and how long it took.
    checked_at: float
    seconds: float

    def count(self, state: State) -> int:
        return sum(1 for e in self.endpoints if e.state is state)

    @property
    def exit_code(self) -> ExitCode:
        if self.count(State.DOWN) or (self.fail_on_degraded and self.count(State.DEGRADED)):
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(s)} {s.value}" for s in State)
        return f"{len(self.endpoints)} endpoints: {counts} ({self.seconds:.2f}s)"

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "checked_at": self.checked_at,
            "seconds": round(self.seconds, 3),
            "fail_on_degraded": self.fail_on_degraded,
            "counts": {s.value: self.count(s) for s in State},
            "endpoints": [e.to_data() for e in self.endpoints],
        }

    def render(self, console: Console) -> None:
        from rich.table import Table
        from rich.text import Text

        table = Table(title=f"health: {self.environment}", title_justify="left")
        for column in ("endpoint", "state", "status", "latency", "cert days", "attempts"):
            table.add_column(column, justify="left" if column in ("endpoint", "state") else "right")
        table.add_column("detail", overflow="fold")
        for e in self.endpoints:
            table.add_row(
                Text(e.name),
                Text(e.state.value.upper(), style=_STYLE[e.state]),
                "-" if e.status_code is None else str(e.status_code),
                "-" if e.latency_ms is None else f"{e.latency_ms:.0f} ms",
                "-" if e.cert_days is None else f"{e.cert_days:.1f}",
                f"{e.attempts} ({e.failed_attempts} failed)"
                if e.failed_attempts
                else str(e.attempts),
                Text(e.reason),
            )
        console.print(table)
        console.print(self.summary(), markup=False)

    def prometheus(self) -> str:
        return exposition_text(self.gauges())

    def gauges(self) -> list[GaugeFamily]:
        def each(value_of: Any) -> list[tuple[tuple[str, ...], float]]:
            return [
                ((e.name, e.url), value)
                for e in self.endpoints
                if (value := value_of(e)) is not None
            ]

        state_samples = [
            ((e.name, e.url, s.value), 1.0 if e.state is s else 0.0)
            for e in self.endpoints
            for s in State
        ]
        name = METRIC_PREFIX
        return [
            GaugeFamily(
                f"{name}_up",
                "1 when the endpoint is UP or DEGRADED, 0 when DOWN.",
                _LABELS,
                each(lambda e: 0 if e.state is State.DOWN else 1),
            ),
            GaugeFamily(
                f"{name}_state",
                "1 for the state the endpoint is in (up, degraded, down).",
                (*_LABELS, "state"),
                state_samples,
            ),
            GaugeFamily(
                f"{name}_latency_seconds",
                "Time of the last attempt, connect and TLS included.",
                _LABELS,
                each(lambda e: None if e.latency_ms is None else round(e.latency_ms / 1000, 6)),
            ),
            GaugeFamily(
                f"{name}_http_status_code",
                "Status of the last answer.",
                _LABELS,
                each(lambda e: e.status_code),
            ),
            GaugeFamily(
                f"{name}_certificate_expiry_timestamp_seconds",
                "notAfter of the server certificate (TLS endpoints).",
                _LABELS,
                each(lambda e: e.cert_not_after),
            ),
            GaugeFamily(
                f"{name}_attempts",
                "Attempts this run (retries included).",
                _LABELS,
                each(lambda e: e.attempts),
            ),
            GaugeFamily(
                f"{name}_last_run_timestamp_seconds",
                "When the run started: a stale textfile shows here.",
                (),
                [((), round(self.checked_at, 3))],
            ),
            GaugeFamily(
                f"{name}_run_seconds", "How long the run took.", (), [((), round(self.seconds, 3))]
            ),
        ]


def reason_of(conditions: list[ConditionResult], note: str) -> str:
    """The failing conditions, else the warnings, plus the state's note."""
    worst = max((c.outcome for c in conditions), default=Outcome.PASS)
    parts = [f"{c.name}: {c.detail}" for c in conditions if c.outcome is worst and worst]
    if note:
        parts.append(note)
    return "; ".join(parts)
