"""Dead-letter headers: three dialects decoded into one :class:`DeadLetter`, and bytes shown
as text. Pure: no I/O.

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
import re
import struct
from collections.abc import Sequence
from typing import Any

from hyperscale.kafka.dlq.results import DeadLetter, Dialect

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
