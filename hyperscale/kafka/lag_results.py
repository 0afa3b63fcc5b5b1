"""Typed results of `hyperscale kafka lag`: the data, the table, NDJSON and Prometheus text."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class TimeLagMethod(StrEnum):
    """How ``lag_seconds`` was found (part of the v1 envelope)."""

    #: The age of the record at the committed offset, from its own timestamp.
    RECORD = "record"
    #: That record could not be read (retention removed it, or the offset is a transaction
    #: marker): estimated on the offset -> time line through the nearest known records.
    INTERPOLATED = "interpolated"
    #: Not measured: no lag (lag_seconds 0), or nothing to go on (lag_seconds null).
    NONE = "none"


class LagStatus(StrEnum):
    """A partition's or group's status over a sampling window (see ``lag.status``)."""

    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"
    ERR = "ERR"

    @property
    def severity(self) -> int:
        """0 for OK up to 5 for ERR: a group's status is its worst partition's."""
        return list(LagStatus).index(self)


#: The rules, in the order they are applied (the first that matches decides).
STATUS_RULES: dict[str, str] = {
    "ERR": "the partition could not be read in some sample (an error from the broker)",
    "REWIND": "the committed offset went backwards between two samples",
    "STOP": "committed offset unchanged across all samples, lag > 0, and the group has no"
    " members: commits stopped",
    "STALL": "committed offset unchanged across all samples, lag > 0, and the log end moved or"
    " lag > 0 throughout, with members present: the consumer is alive but stuck",
    "WARN": "lag grew at every step (strictly increasing) while the committed offset moved",
    "OK": "no lag at the last sample, or lag not growing",
}


@dataclass(frozen=True)
class PartitionTrend:
    """What a sampling window (``--sample N --interval S``) says about one partition."""

    status: LagStatus
    status_reason: str
    samples: int
    #: Committed offset delta / time, messages per second (None without two committed offsets).
    consumption_rate: float | None
    #: Log end delta / time, messages per second.
    production_rate: float | None
    #: Lag delta / time, messages per second; negative: catching up.
    lag_trend: float | None
    #: lag / (consumption - production) when that is positive; None otherwise.
    eta_seconds: float | None

    def to_data(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "status_reason": self.status_reason,
            "samples": self.samples,
            "consumption_rate": self.consumption_rate,
            "production_rate": self.production_rate,
            "lag_trend": self.lag_trend,
            "eta_seconds": self.eta_seconds,
        }


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    #: None when the group has never committed an offset for this partition.
    committed_offset: int | None
    log_start_offset: int
    log_end_offset: int
    #: log end - committed, read in that order and clamped at 0; None without a committed offset.
    lag_messages: int | None
    lag_seconds: float | None
    time_lag_method: TimeLagMethod
    #: The client id of the member the partition is assigned to, if any.
    client_id: str | None = None
    #: Only with --sample: rates, trend, ETA and status over the window.
    trend: PartitionTrend | None = None

    @property
    def no_committed_offset(self) -> bool:
        return self.committed_offset is None

    @property
    def retention_loss(self) -> bool:
        """Records the group never read were deleted: the committed offset is below log start."""
        return self.committed_offset is not None and self.committed_offset < self.log_start_offset

    @property
    def flags(self) -> list[str]:
        return [
            name
            for name, on in (
                ("no_committed_offset", self.no_committed_offset),
                ("retention_loss", self.retention_loss),
            )
            if on
        ]

    def to_data(self) -> dict[str, Any]:
        # Written out rather than dataclasses.asdict: a report at scale has thousands of rows.
        return {
            "group": self.group,
            "topic": self.topic,
            "partition": self.partition,
            "committed_offset": self.committed_offset,
            "log_start_offset": self.log_start_offset,
            "log_end_offset": self.log_end_offset,
            "lag_messages": self.lag_messages,
            "lag_seconds": self.lag_seconds,
            "time_lag_method": self.time_lag_method.value,
            "client_id": self.client_id,
            "no_committed_offset": self.no_committed_offset,
            "retention_loss": self.retention_loss,
            **(self.trend.to_data() if self.trend is not None else {}),
        }


@dataclass(frozen=True)
class GroupLag:
    group: str
    #: Kafka's word for it: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead...
    state: str
    members: int
    partitions: list[PartitionLag] = field(default_factory=list)
    #: Only with --sample: the worst partition status and its reason.
    status: LagStatus | None = None
    status_reason: str | None = None

    @property
    def idle(self) -> bool:
        return self.members == 0

    @property
    def lag_messages(self) -> int:
        return sum(p.lag_messages or 0 for p in self.partitions)

    @property
    def lag_seconds(self) -> float | None:
        seconds = [p.lag_seconds for p in self.partitions if p.lag_seconds is not None]
        return max(seconds) if seconds else None

    def to_data(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "state": self.state,
            "members": self.members,
            "idle": self.idle,
            "lag_messages": self.lag_messages,
            "lag_seconds": self.lag_seconds,
            **(
                {"status": self.status.value, "status_reason": self.status_reason}
                if self.status is not None
                else {}
            ),
            "partitions": [p.to_data() for p in self.partitions],
        }


@dataclass(frozen=True)
class LagBreach:
    group: str
    topic: str
    partition: int
    #: "messages" or "seconds"
    measure: str
    value: float
    limit: float

    def describe(self) -> str:
        unit = "messages" if self.measure == "messages" else "s"
        return (
            f"{self.group} {self.topic}[{self.partition}]: lag {self.value:g} {unit}"
            f" > {self.limit:g} {unit}"
        )


@dataclass(frozen=True)
class Sampling:
    """How a sampled report was taken: N snapshots, S seconds apart, over a window."""

    samples: int
    interval_seconds: float
    window_seconds: float
    #: Errors of samples that failed (their partitions are ERR).
    errors: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {
            "samples": self.samples,
            "interval_seconds": self.interval_seconds,
            "window_seconds": round(self.window_seconds, 3),
            "errors": self.errors,
            "status_rules": STATUS_RULES,
        }


@dataclass(frozen=True)
class LagReport:
    environment: str
    bootstrap: str
    #: Unix time at which the end offsets were read: the "now" of every lag_seconds.
    measured_at: float
    max_lag_messages: int
    max_lag_seconds: float
    groups: list[GroupLag]
    breaches: list[LagBreach]
    sampling: Sampling | None = None

    @property
    def not_ok(self) -> list[PartitionLag]:
        """Partitions whose sampled status is not OK (none without sampling)."""
        return [
            p for p in self.partitions if p.trend is not None and p.trend.status is not LagStatus.OK
        ]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.CHECK_FAILED if self.breaches or self.not_ok else ExitCode.OK

    @property
    def partitions(self) -> list[PartitionLag]:
        return [p for g in self.groups for p in g.partitions]

    def to_data(self) -> dict[str, Any]:
        import datetime as dt

        return {
            "environment": self.environment,
            "bootstrap": self.bootstrap,
            "measured_at": dt.datetime.fromtimestamp(self.measured_at, dt.UTC).isoformat(),
            "thresholds": {
                "max_lag_messages": self.max_lag_messages,
                "max_lag_seconds": self.max_lag_seconds,
            },
            "groups": [g.to_data() for g in self.groups],
            "breaches": [asdict(b) for b in self.breaches],
            **({"sampling": self.sampling.to_data()} if self.sampling is not None else {}),
        }

    def to_ndjson(self) -> str:
        """One JSON object per partition and line, no envelope: for jq, log shippers, grep."""
        states = {g.group: g for g in self.groups}
        lines = []
        for p in self.partitions:
            group = states[p.group]
            row = {**p.to_data(), "state": group.state, "idle": group.idle}
            lines.append(json.dumps(row, separators=(",", ":")))
        return "".join(line + "\n" for line in lines)

    def to_prometheus(self) -> str:
        """The Prometheus text exposition format (version 0.0.4): gauges, one sample per
        partition; a value that is unknown (no committed offset) has no sample."""
        return prometheus_text(self)

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        if not self.groups:
            console.print(f"no consumer groups matched on {escape(self.bootstrap)}")
        for group in self.groups:
            idle = ", idle" if group.idle else ""
            status = f" [bold]{group.status.value}[/]" if group.status is not None else ""
            table = Table(
                title=(
                    f"[bold]{escape(group.group)}[/]{status} {group.state},"
                    f" {group.members} member(s){idle}: lag {group.lag_messages} messages,"
                    f" {_seconds(group.lag_seconds)}"
                ),
                title_justify="left",
            )
            table.add_column("topic", overflow="fold")
            for column in ("part", "committed", "start", "end", "lag", "lag s"):
                table.add_column(column, justify="right", no_wrap=True)
            table.add_column("method")
            sampled = self.sampling is not None
            if sampled:
                for column in ("cons/s", "prod/s", "trend/s", "eta s"):
                    table.add_column(column, justify="right", no_wrap=True)
                table.add_column("status")
            table.add_column("flags")
            breached = {(b.topic, b.partition) for b in self.breaches if b.group == group.group}
            for p in group.partitions:
                colour = "red" if (p.topic, p.partition) in breached else "default"
                cells = [
                    escape(p.topic),
                    str(p.partition),
                    _or_dash(p.committed_offset),
                    str(p.log_start_offset),
                    str(p.log_end_offset),
                    f"[{colour}]{_or_dash(p.lag_messages)}[/]",
                    f"[{colour}]{_seconds(p.lag_seconds)}[/]",
                    p.time_lag_method.value,
                ]
                if sampled:
                    t = p.trend
                    cells += [
                        _rate(t.consumption_rate if t else None),
                        _rate(t.production_rate if t else None),
                        _rate(t.lag_trend if t else None),
                        _seconds(t.eta_seconds if t else None),
                        t.status.value if t else "-",
                    ]
                table.add_row(*cells, ", ".join(p.flags))
            console.print(table)
            for p in group.partitions:
                if p.trend is not None and p.trend.status is not LagStatus.OK:
                    console.print(
                        f"  {escape(p.topic)}[{p.partition}] [bold]{p.trend.status.value}[/]:"
                        f" {escape(p.trend.status_reason)}"
                    )
        if self.breaches:
            console.print(
                f"[bold red]{len(self.breaches)} partition threshold(s) breached[/]"
                f" (max lag {self.max_lag_messages} messages, {self.max_lag_seconds:g} s):"
            )
            for breach in self.breaches:
                console.print(f"  {escape(breach.describe())}")
        if self.not_ok:
            console.print(f"[bold red]{len(self.not_ok)} partition(s) not OK over the window[/]")


def _or_dash(value: int | None) -> str:
    return "-" if value is None else str(value)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


METRIC_PREFIX = "hyperscale_kafka_consumer"

#: (metric suffix, help, value of a partition or None)
_PARTITION_GAUGES: list[tuple[str, str, Callable[[PartitionLag], float | None]]] = [
    (
        "lag_messages",
        "Messages the group has not consumed yet: log end offset - committed offset.",
        lambda p: p.lag_messages,
    ),
    (
        "lag_seconds",
        "Age of the record at the committed offset (0 when caught up).",
        lambda p: p.lag_seconds,
    ),
    ("committed_offset", "The group's committed offset.", lambda p: p.committed_offset),
    ("log_start_offset", "The partition's first offset.", lambda p: p.log_start_offset),
    ("log_end_offset", "The partition's high watermark.", lambda p: p.log_end_offset),
    (
        "retention_loss",
        "1 when records were deleted before the group read them.",
        lambda p: int(p.retention_loss),
    ),
    (
        "status",
        "With --sample: 0 OK, 1 WARN, 2 STALL, 3 STOP, 4 REWIND, 5 ERR.",
        lambda p: p.trend.status.severity if p.trend is not None else None,
    ),
]

_GROUP_GAUGES: list[tuple[str, str, Callable[[GroupLag], float]]] = [
    ("group_members", "Members of the consumer group.", lambda g: g.members),
    ("group_lag_messages", "Sum of the group's partition lags.", lambda g: g.lag_messages),
]


def prometheus_text(report: LagReport) -> str:
    lines: list[str] = []
    for suffix, help_text, value_of in _PARTITION_GAUGES:
        if suffix == "status" and report.sampling is None:
            continue  # a snapshot has no status: keep its exposition as it was
        name = f"{METRIC_PREFIX}_{suffix}"
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for p in report.partitions:
            value = value_of(p)
            if value is None:
                continue
            labels = _labels(group=p.group, topic=p.topic, partition=str(p.partition))
            lines.append(f"{name}{{{labels}}} {_number(value)}")
    for suffix, help_text, group_value in _GROUP_GAUGES:
        name = f"{METRIC_PREFIX}_{suffix}"
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
        for g in report.groups:
            lines.append(
                f"{name}{{{_labels(group=g.group, state=g.state)}}} {_number(group_value(g))}"
            )
    return "\n".join(lines) + "\n"


def _labels(**labels: str) -> str:
    return ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items())


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)
