"""A replay's checkpoint: the offsets of a consumer group (the *checkpoint group*), one per DLQ
partition, saying how far it has been replayed.

With exactly once, a batch's offsets are sent into the transaction that holds its records, so
both commit together or neither does; the transactional id is the group's name, so a new run
fences a dead one and aborts its open transaction before the checkpoint is read. At least once,
the offsets are committed after the batch's records are all delivered.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.errors import KafkaCallError
from hyperscale.clients.kafka.models import TopicPartitionKey
from hyperscale.clients.kafka.producer import KafkaProducer
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.errors import ExternalSystemError
from hyperscale.kafka.dlq.filter import FilterSpec
from hyperscale.kafka.dlq.replay.results import ReplayCounts

#: (first offset to read, end offset captured at the start) of a DLQ partition.
Window = tuple[int, int]


def checkpoint_group(topics: Sequence[str], to: str | None, filters: FilterSpec) -> str:
    """The default checkpoint group: equal selections share it, different ones never do."""
    text = "\n".join([*sorted(topics), f"to={to}", filters.canonical()])
    return "hyperscale-dlq-replay." + hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass
class Batch:
    """What the open transaction holds: counted into the totals only once it commits."""

    counts: ReplayCounts = field(default_factory=ReplayCounts)
    #: (topic, partition) -> the next offset to read: what the checkpoint will say.
    positions: dict[TopicPartitionKey, int] = field(default_factory=dict)
    #: When its first record was read (time.monotonic), for --transaction-seconds.
    started: float = 0.0
    #: A transaction is open on the broker (exactly once, once a record was produced).
    open: bool = False

    @property
    def records(self) -> int:
        return self.counts.read

    def full(self, max_records: int, max_seconds: float) -> bool:
        if not self.positions:
            return False
        return self.records >= max_records or time.monotonic() - self.started >= max_seconds


def windows(
    admin: KafkaAdmin,
    reader: AssignedReader,
    partitions: list[TopicPartitionKey],
    timeout: float,
) -> tuple[dict[TopicPartitionKey, Window], int]:
    """Each partition with work left, from its checkpoint (else its log start) to its end offset
    now; and the records retention deleted between the checkpoint and the log start."""
    if not partitions:
        return {}, 0
    marks = admin.watermarks(partitions)
    try:
        committed = reader.committed(partitions, timeout)
    except KafkaCallError as exc:
        raise ExternalSystemError(
            f"reading the checkpoint of group {reader.group} from Kafka at"
            f" {reader.bootstrap}: {exc.failure.text}"
        ) from None
    found: dict[TopicPartitionKey, Window] = {}
    lost = 0
    for tp, offset in committed.items():
        mark = marks[tp]
        start = offset if offset is not None else mark.log_start
        if start < mark.log_start:
            lost += mark.log_start - start
            start = mark.log_start
        if start < mark.log_end:
            found[tp] = (start, mark.log_end)
    return found, lost


def write(
    batch: Batch, producer: KafkaProducer, reader: AssignedReader, *, exactly_once: bool
) -> None:
    """Make the batch's records and its offsets visible together (exactly once), or its
    offsets once its records are delivered (at least once). KafkaCallError when it cannot."""
    if exactly_once:
        if not batch.open:
            producer.begin()
        producer.send_offsets(batch.positions, reader)
        producer.commit()
    else:
        producer.flush_deliveries()
        reader.commit(batch.positions)


def add_counts(totals: ReplayCounts, counts: ReplayCounts) -> None:
    """A committed batch's counts into the run's totals."""
    totals.read += counts.read
    totals.sent += counts.sent
    totals.bytes_sent += counts.bytes_sent
    totals.skipped_by_filter += counts.skipped_by_filter
    totals.parked.update(counts.parked)
    totals.sent_to.update(counts.sent_to)
