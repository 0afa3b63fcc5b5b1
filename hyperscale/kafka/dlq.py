"""Dead-letter topics: read them and decode why each record failed. Never prints.

`inspect` reads every partition from its log start to the end offset captured when it started,
with an assigned consumer that never joins a group and never commits, so no group's offsets
move. It streams: counters and the first ``samples`` records are all it keeps.

Three header dialects are decoded into one :class:`DeadLetter`:

- this project's ``hyperscale.dlq.*`` (services/events/platform_events/dlq.py), all text;
- Spring Kafka's ``kafka_dlt-*``: partition a 4-byte and offset/timestamp an 8-byte big-endian
  integer (or decimal text: a value made only of ASCII digits is read as text, since as binary it
  would be an impossible partition or offset);
- Kafka Connect's ``__connect.errors.*``, text.

A header that cannot be decoded leaves its field None; the record is still counted, and also
under ``malformed_headers``.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.kafka.client import KafkaAdmin, TopicState, client_config
from hyperscale.kafka.dlq_filter import FilterSpec, RecordFilter, build_filter
from hyperscale.kafka.dlq_results import DeadLetter, Dialect, DlqReport, DlqSample, DlqTopicRead
from hyperscale.kafka.lag import with_bootstrap

TEXT_LIMIT = 200

#: Normalised field -> header name, per dialect (``None``: the dialect has no such header).
HYPERSCALE_HEADERS = {
    "origin_topic": "hyperscale.dlq.original-topic",
    "origin_partition": "hyperscale.dlq.original-partition",
    "origin_offset": "hyperscale.dlq.original-offset",
    "origin_timestamp_ms": "hyperscale.dlq.original-timestamp",
    "group": "hyperscale.dlq.consumer-group",
    "exception_class": "hyperscale.dlq.exception-class",
    "exception_message": "hyperscale.dlq.exception-message",
    "attempts": "hyperscale.dlq.attempts",
    "failed_at_ms": "hyperscale.dlq.failed-at",
}
REPLAY_COUNT = "hyperscale.dlq.replay-count"
SPRING_HEADERS = {
    "origin_topic": "kafka_dlt-original-topic",
    "origin_partition": "kafka_dlt-original-partition",
    "origin_offset": "kafka_dlt-original-offset",
    "origin_timestamp_ms": "kafka_dlt-original-timestamp",
    "group": "kafka_dlt-original-consumer-group",
    "exception_class": "kafka_dlt-exception-fqcn",
    "exception_message": "kafka_dlt-exception-message",
}
CONNECT_HEADERS = {
    "origin_topic": "__connect.errors.topic",
    "origin_partition": "__connect.errors.partition",
    "origin_offset": "__connect.errors.offset",
    "exception_class": "__connect.errors.exception.class.name",
    "exception_message": "__connect.errors.exception.message",
    "connector": "__connect.errors.connector.name",
}
_INT_FIELDS = {
    "origin_partition",
    "origin_offset",
    "origin_timestamp_ms",
    "attempts",
    "failed_at_ms",
}
_DIALECTS: list[tuple[Dialect, str, dict[str, str]]] = [
    (Dialect.HYPERSCALE, "hyperscale.dlq.", HYPERSCALE_HEADERS),
    (Dialect.SPRING, "kafka_dlt-", SPRING_HEADERS),
    (Dialect.CONNECT, "__connect.errors.", CONNECT_HEADERS),
]
_DIGITS = re.compile(rb"-?[0-9]+")
#: Spring's binary integers by size: an int (partition) or a long (offset, timestamp).
_BINARY = {4: ">i", 8: ">q"}
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class DlqQuery:
    #: DLQ topics to read; empty: every topic ending with the environment's dead-letter suffix.
    topics: Sequence[str] = ()
    samples: int = 5
    bootstrap: str | None = None
    timeout: float = 10.0
    #: Only the records these match (all of them by default).
    filters: FilterSpec = field(default_factory=FilterSpec)


class _MalformedError(ValueError):
    pass


def decode_headers(headers: Sequence[tuple[str, bytes | None]] | None) -> DeadLetter:
    """The dead letter the headers describe; the last value wins when a header repeats."""
    last: dict[str, bytes | None] = dict(headers or [])
    for dialect, prefix, names in _DIALECTS:
        # Our replay count says nothing about who dead-lettered the record: a replayed Spring
        # record that failed again carries it beside Spring's own headers.
        if not any(name.startswith(prefix) and name != REPLAY_COUNT for name in last):
            continue
        fields: dict[str, Any] = {}
        malformed: list[str] = []
        wanted = dict(names)
        if dialect is Dialect.HYPERSCALE:
            wanted["replay_count"] = REPLAY_COUNT
        for field_name, header in wanted.items():
            raw = last.get(header)
            if raw is None:
                continue
            try:
                if field_name in _INT_FIELDS or field_name == "replay_count":
                    fields[field_name] = _integer(raw, binary=dialect is Dialect.SPRING)
                else:
                    fields[field_name] = raw.decode("utf-8", errors="replace")
            except _MalformedError:
                malformed.append(header)
        return DeadLetter(dialect=dialect, malformed=tuple(malformed), **fields)
    return DeadLetter(dialect=Dialect.NONE)


def routing_fields(last: dict[str, bytes | None]) -> tuple[str | None, int | None]:
    """(original topic, original partition): all a replay without filters needs. The first
    dialect, in ``decode_headers``' order, that names an original topic gives both; the other
    fields are never decoded."""
    for dialect, _, names in _DIALECTS:
        topic = last.get(names["origin_topic"])
        if topic is None:
            continue
        raw_partition = last.get(names["origin_partition"])
        try:
            partition = (
                None
                if raw_partition is None
                else _integer(raw_partition, binary=dialect is Dialect.SPRING)
            )
        except _MalformedError:
            partition = None
        return topic.decode("utf-8", errors="replace"), partition
    return None, None


def _integer(raw: bytes, *, binary: bool) -> int:
    """Decimal text; for Spring also a 4- or 8-byte big-endian signed integer."""
    if _DIGITS.fullmatch(raw.strip()):
        return int(raw.strip())
    layout = _BINARY.get(len(raw)) if binary else None
    if layout is not None:
        return int(struct.unpack(layout, raw)[0])
    raise _MalformedError(raw)


def shown(raw: bytes | None) -> tuple[str | None, str]:
    """(text, "utf-8") truncated to 200 characters, or (base64, "base64") when it is not UTF-8
    text (control characters other than tab and newlines count as binary: Spring's integers)."""
    if raw is None:
        return None, "null"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _CONTROL.search(text):
        return text[:TEXT_LIMIT], "utf-8"
    return base64.b64encode(raw).decode("ascii")[:TEXT_LIMIT], "base64"


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
        self.by_origin: Counter[str] = Counter()
        self.by_hour: Counter[str] = Counter()
        self.malformed = 0
        self.oldest: int | None = None
        self.newest: int | None = None
        self.samples: list[DlqSample] = []

    def add(self, message: Any) -> None:
        headers = message.headers()
        letter = decode_headers(headers)
        kind, record_ms = message.timestamp()
        record_ms = record_ms if kind != 0 and record_ms >= 0 else None
        when = letter.failed_at_ms if letter.failed_at_ms is not None else record_ms
        self.read += 1
        self.per_topic[message.topic()] += 1
        if not self.keep.keeps(letter, when, message.key(), headers):
            return
        self.total += 1
        self.by_dialect[letter.dialect.value] += 1
        self.by_exception[letter.exception_class or "(none)"] += 1
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
            self.samples.append(_sample(message, letter, record_ms))


def _sample(message: Any, letter: DeadLetter, record_ms: int | None) -> DlqSample:
    key, key_encoding = shown(message.key())
    raw_value = message.value()
    value, value_encoding = shown(raw_value)
    headers = []
    for name, raw in message.headers() or []:
        text, encoding = shown(raw)
        headers.append({"name": name, "value": text, "encoding": encoding})
    return DlqSample(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        timestamp_ms=record_ms,
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
    ranges: dict[tuple[str, int], tuple[int, int]],
    tally: _Tally,
    timeout: float,
) -> None:
    """Read each partition from its start to its captured end; fail after ``timeout`` seconds
    without progress."""
    from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition

    consumer = Consumer(
        {
            **client_config(env, app),
            "group.id": "hyperscale-dlq-inspect",  # required by the client; never joined
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_uncommitted",
            "fetch.wait.max.ms": 100,
        }
    )
    pending = dict(ranges)
    try:
        consumer.assign([TopicPartition(t, p, start) for (t, p), (start, _) in pending.items()])
        last_progress = time.monotonic()
        while pending:
            if time.monotonic() - last_progress > timeout:
                left = ", ".join(f"{t}[{p}]" for t, p in sorted(pending)[:5])
                raise ExternalSystemError(
                    f"reading {left} from Kafka at {env.kafka.bootstrap}:"
                    f" no progress for {timeout:g}s",
                    hint="is the broker up? `hyperscale local status`, or raise --timeout",
                )
            for message in consumer.consume(num_messages=500, timeout=0.5):
                tp = (message.topic() or "", message.partition() or 0)
                if tp not in pending:
                    continue
                error = message.error()
                if error is not None and error.code() != KafkaError._PARTITION_EOF:
                    if error.fatal():
                        raise ExternalSystemError(
                            f"reading {tp[0]}[{tp[1]}] from Kafka at {env.kafka.bootstrap}:"
                            f" {KafkaException(error).args[0]}"
                        )
                    continue
                last_progress = time.monotonic()
                end = pending[tp][1]
                if error is None and (message.offset() or 0) < end:
                    tally.add(message)
                if error is not None or (message.offset() or 0) >= end - 1:
                    del pending[tp]  # end of log (only ever past the captured end), or reached
                    consumer.incremental_unassign([TopicPartition(*tp, OFFSET_END)])
    finally:
        consumer.close()
