"""`hyperscale kafka dlq inspect`: read dead-letter topics and count why records failed.
Never prints.

It reads every partition from its log start to the end offset captured when it started, with an
assigned reader that never joins a group and never commits, so no group's offsets move. It
streams: counters and the first ``samples`` records are all it keeps. The headers are decoded
by hyperscale.kafka.dlq.headers.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.config import with_bootstrap
from hyperscale.clients.kafka.models import PartitionEnd, Record, TopicPartitionKey, TopicState
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.kafka.dlq.filter import FilterSpec, RecordFilter, build_filter
from hyperscale.kafka.dlq.fingerprint import failure_fingerprint
from hyperscale.kafka.dlq.headers import decode_headers, shown
from hyperscale.kafka.dlq.results import (
    DeadLetter,
    DlqReport,
    DlqSample,
    DlqTopicRead,
    FailureKind,
    FailureSample,
)

INSPECT_GROUP = "hyperscale-dlq-inspect"


@dataclass(frozen=True)
class DlqQuery:
    #: DLQ topics to read; empty: every topic ending with the environment's dead-letter suffix.
    topics: Sequence[str] = ()
    samples: int = 5
    bootstrap: str | None = None
    timeout: float = 10.0
    #: Only the records these match (all of them by default).
    filters: FilterSpec = field(default_factory=FilterSpec)


class _Tally:
    """Counts and the first samples: all inspect keeps, whatever the size of the DLQ."""

    def __init__(self, samples: int, keep: RecordFilter) -> None:
        self.samples_wanted = samples
        self.keep = keep
        self.read = 0
        self.total = 0
        self.per_topic: Counter[str] = Counter()
        self.by_dialect: Counter[str] = Counter()
        self.by_exception: Counter[str] = Counter()
        self.kinds: dict[str, FailureKind] = {}
        self.by_origin: Counter[str] = Counter()
        self.by_hour: Counter[str] = Counter()
        self.malformed = 0
        self.oldest: int | None = None
        self.newest: int | None = None
        self.samples: list[DlqSample] = []

    def add(self, record: Record) -> None:
        headers = record.headers
        letter = decode_headers(headers)
        when = letter.failed_at_ms if letter.failed_at_ms is not None else record.timestamp_ms
        self.read += 1
        self.per_topic[record.topic] += 1
        if not self.keep.keeps(letter, when, record.key, headers):
            return
        self.total += 1
        self.by_dialect[letter.dialect.value] += 1
        self.by_exception[letter.exception_class or "(none)"] += 1
        self._count_kind(record, letter)
        self.by_origin[letter.origin_topic or "(none)"] += 1
        if letter.malformed:
            self.malformed += 1
        if when is not None:
            hour = dt.datetime.fromtimestamp(when / 1000, dt.UTC).replace(
                minute=0, second=0, microsecond=0
            )
            self.by_hour[hour.isoformat()] += 1
            self.oldest = when if self.oldest is None else min(self.oldest, when)
            self.newest = when if self.newest is None else max(self.newest, when)
        else:
            self.by_hour["(unknown)"] += 1
        if len(self.samples) < self.samples_wanted:
            self.samples.append(_sample(record, letter))

    def _count_kind(self, record: Record, letter: DeadLetter) -> None:
        fingerprint, pattern = failure_fingerprint(letter.exception_class, letter.exception_message)
        kind = self.kinds.get(fingerprint)
        if kind is None:
            sample = FailureSample(
                record.topic, record.partition, record.offset, letter.exception_message
            )
            kind = FailureKind(fingerprint, letter.exception_class, pattern, 0, sample)
            self.kinds[fingerprint] = kind
        kind.records += 1


def _sample(record: Record, letter: DeadLetter) -> DlqSample:
    key, key_encoding = shown(record.key)
    raw_value = record.value
    value, value_encoding = shown(raw_value)
    headers = []
    for name, raw in record.headers:
        text, encoding = shown(raw)
        headers.append({"name": name, "value": text, "encoding": encoding})
    return DlqSample(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp_ms,
        key=key,
        key_encoding=key_encoding,
        value=value,
        value_encoding=value_encoding,
        value_bytes=len(raw_value or b""),
        headers=headers,
        dead_letter=letter,
    )


def inspect_dlq(env: Environment, app: AppContext, query: DlqQuery) -> DlqReport:
    keep = build_filter(query.filters, time.time())
    env = with_bootstrap(env, query.bootstrap)
    admin = KafkaAdmin(env, app, timeout=query.timeout)
    existing = admin.topics()
    chosen = choose_dlq_topics(env, existing, query.topics, "inspect")
    partitions = [(t, p) for t in chosen for p in range(existing[t].partitions)]
    marks = admin.watermarks(partitions)
    inspected_at = time.time()
    ranges = {tp: (m.log_start, m.log_end) for tp, m in marks.items() if m.log_start < m.log_end}
    tally = _Tally(query.samples, keep)
    if ranges:
        _read(env, app, ranges, tally, query.timeout)
    return DlqReport(
        environment=env.name,
        bootstrap=env.kafka.bootstrap,
        inspected_at=inspected_at,
        topics=[DlqTopicRead(t, existing[t].partitions, tally.per_topic.get(t, 0)) for t in chosen],
        read=tally.read,
        filtered=keep.active,
        total=tally.total,
        by_dialect=dict(tally.by_dialect.most_common()),
        by_exception_class=dict(tally.by_exception.most_common()),
        by_failure=sorted(tally.kinds.values(), key=lambda k: (-k.records, k.fingerprint)),
        by_origin_topic=dict(tally.by_origin.most_common()),
        by_hour=dict(sorted(tally.by_hour.items())),
        malformed_headers=tally.malformed,
        oldest_ms=tally.oldest,
        newest_ms=tally.newest,
        samples=tally.samples,
    )


def choose_dlq_topics(
    env: Environment, existing: dict[str, TopicState], wanted: Sequence[str], verb: str
) -> list[str]:
    """The DLQ topics a command reads: those named (all must exist), else every topic ending
    with the environment's dead-letter suffix."""
    suffix = env.kafka.topics.dead_letter_suffix
    if wanted:
        missing = [t for t in wanted if t not in existing]
        if missing:
            raise UsageError(
                f"no topic {', '.join(missing)} on {env.kafka.bootstrap}",
                hint=f"`hyperscale kafka dlq {verb}` without a topic reads every *{suffix} topic",
            )
        return sorted(set(wanted))
    return sorted(t for t in existing if t.endswith(suffix))


def _read(
    env: Environment,
    app: AppContext,
    ranges: dict[TopicPartitionKey, tuple[int, int]],
    tally: _Tally,
    timeout: float,
) -> None:
    """Read each partition from its start to its captured end; fail after ``timeout`` seconds
    without progress."""
    pending = dict(ranges)
    with AssignedReader(env, app, INSPECT_GROUP, fetch_wait_ms=100) as reader:
        reader.assign({tp: start for tp, (start, _) in pending.items()})
        last_progress = time.monotonic()
        while pending:
            if time.monotonic() - last_progress > timeout:
                left = ", ".join(f"{t}[{p}]" for t, p in sorted(pending)[:5])
                raise ExternalSystemError(
                    f"reading {left} from Kafka at {env.kafka.bootstrap}:"
                    f" no progress for {timeout:g}s",
                    hint="is the broker up? `hyperscale local status`, or raise --timeout",
                )
            for item in reader.fetch(500, 0.5):
                tp = (item.topic, item.partition)
                if tp not in pending:
                    continue
                last_progress = time.monotonic()
                end = pending[tp][1]
                if isinstance(item, PartitionEnd):
                    done = True  # the end of the log: only ever past the captured end
                else:
                    if item.offset < end:
                        tally.add(item)
                    done = item.offset >= end - 1
                if done:
                    del pending[tp]
                    reader.release(tp)
