"""A lag report as Prometheus gauges: one definition for `kafka lag -o prometheus` (text) and
for `kafka lag --serve` (a prometheus-client collector), so both expose the same names."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hyperscale.exposition import GaugeFamily, exposition_text

if TYPE_CHECKING:
    from hyperscale.kafka.lag.results import GroupLag, LagReport, PartitionLag

METRIC_PREFIX = "hyperscale_kafka_consumer"

PARTITION_LABELS = ("group", "topic", "partition")
GROUP_LABELS = ("group", "state")

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


def gauge_families(report: LagReport) -> list[GaugeFamily]:
    """Every gauge of the report; a value that is unknown (no committed offset) has no sample,
    and ``status`` exists only for a sampled report."""
    families = []
    samples: list[tuple[tuple[str, ...], float]]
    for suffix, help_text, value_of in _PARTITION_GAUGES:
        if suffix == "status" and report.sampling is None:
            continue
        samples = [
            ((p.group, p.topic, str(p.partition)), value)
            for p in report.partitions
            if (value := value_of(p)) is not None
        ]
        families.append(
            GaugeFamily(f"{METRIC_PREFIX}_{suffix}", help_text, PARTITION_LABELS, samples)
        )
    for suffix, help_text, group_value in _GROUP_GAUGES:
        samples = [((g.group, g.state), group_value(g)) for g in report.groups]
        families.append(GaugeFamily(f"{METRIC_PREFIX}_{suffix}", help_text, GROUP_LABELS, samples))
    return families


def prometheus_text(report: LagReport) -> str:
    """The text exposition format (version 0.0.4)."""
    return exposition_text(gauge_families(report))
