"""Typed results of `hyperscale kafka lag`: the data, its envelope and NDJSON lines. Only
data: the table (table.py) and the Prometheus text (metrics.py) read these, never the reverse;
view.py puts them together for the command."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hyperscale.exit_codes import ExitCode


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
    """A partition's or group's status over a sampling window (see ``sampling.status``)."""

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
    #: log end - committed, read in that order and clamped at 0, less the transaction markers
    #: below; None without a committed offset.
    lag_messages: int | None
    lag_seconds: float | None
    time_lag_method: TimeLagMethod
    #: The client id of the member the partition is assigned to, if any.
    client_id: str | None = None
    #: Only with --sample: rates, trend, ETA and status over the window.
    trend: PartitionTrend | None = None
    #: Offsets between the committed one and the log end that hold nothing a consumer reads:
    #: the commit or abort markers a transactional producer writes. A consumer that read
    #: everything commits the offset of its last record + 1, which is the marker's, so without
    #: this every partition written in transactions would show a lag of 1 that never goes.
    transaction_markers: int = 0
    #: Without a committed offset: the lag the group would have on the partition if it started
    #: where its auto.offset.reset puts it (--offset-reset); None when it has an offset.
    lag_if_reset: int | None = None

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
                ("only_transaction_markers_ahead", self.transaction_markers > 0),
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
            "transaction_markers": self.transaction_markers,
            "lag_if_reset": self.lag_if_reset,
            **(self.trend.to_data() if self.trend is not None else {}),
        }


@dataclass(frozen=True)
class DeletedPartition:
    """A partition the group committed an offset on (or was assigned) whose topic, or the
    partition itself, no longer exists. Reported, never measured, never a failure."""

    topic: str
    partition: int
    #: None when the group was only assigned the partition.
    committed_offset: int | None

    def to_data(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "committed_offset": self.committed_offset,
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
    #: Committed offsets on deleted topics or partitions (skipped, not in ``partitions``).
    topic_deleted: list[DeletedPartition] = field(default_factory=list)

    @property
    def deleted_topics(self) -> list[str]:
        return sorted({d.topic for d in self.topic_deleted})

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
            "topic_deleted": [d.to_data() for d in self.topic_deleted],
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

    def to_data(self) -> dict[str, Any]:
        # Not dataclasses.asdict (recursive, deep-copying): every partition can breach.
        return {
            "group": self.group,
            "topic": self.topic,
            "partition": self.partition,
            "measure": self.measure,
            "value": self.value,
            "limit": self.limit,
        }

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
            "breaches": [b.to_data() for b in self.breaches],
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
