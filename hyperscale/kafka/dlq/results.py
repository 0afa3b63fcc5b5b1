"""Typed results of `hyperscale kafka dlq inspect`: the normalised dead letter, the report, its
table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class Dialect(StrEnum):
    """Whose dead-letter headers a record carries (part of the v1 envelope)."""

    #: This project's consumers: ``hyperscale.dlq.*`` (services/events/platform_events/dlq.py).
    HYPERSCALE = "hyperscale"
    #: Spring Kafka's DeadLetterPublishingRecoverer: ``kafka_dlt-*``.
    SPRING = "spring"
    #: Kafka Connect's errors.deadletterqueue.context.headers.enable: ``__connect.errors.*``.
    CONNECT = "connect"
    #: No dead-letter header at all.
    NONE = "none"


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered record's headers, decoded into the same fields whatever the dialect.
    A field is None when the dialect has no such header, the record lacks it, or it is
    malformed (then its header name is in ``malformed``)."""

    dialect: Dialect
    origin_topic: str | None = None
    origin_partition: int | None = None
    origin_offset: int | None = None
    origin_timestamp_ms: int | None = None
    group: str | None = None
    exception_class: str | None = None
    exception_message: str | None = None
    attempts: int | None = None
    replay_count: int | None = None
    failed_at_ms: int | None = None
    #: Kafka Connect only: the connector that gave up on the record.
    connector: str | None = None
    malformed: tuple[str, ...] = ()

    def to_data(self) -> dict[str, Any]:
        return {
            "dialect": self.dialect.value,
            "origin_topic": self.origin_topic,
            "origin_partition": self.origin_partition,
            "origin_offset": self.origin_offset,
            "origin_timestamp": _iso(self.origin_timestamp_ms),
            "group": self.group,
            "exception_class": self.exception_class,
            "exception_message": self.exception_message,
            "attempts": self.attempts,
            "replay_count": self.replay_count,
            "failed_at": _iso(self.failed_at_ms),
            "connector": self.connector,
            "malformed_headers": list(self.malformed),
        }


@dataclass(frozen=True)
class DlqSample:
    """A record as read from the DLQ; key, value and header values as text (at most 200
    characters) when they are UTF-8, else base64 (``*_encoding`` says which)."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int | None
    key: str | None
    key_encoding: str
    value: str | None
    value_encoding: str
    value_bytes: int
    headers: list[dict[str, Any]]
    dead_letter: DeadLetter

    def to_data(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": _iso(self.timestamp_ms),
            "key": self.key,
            "key_encoding": self.key_encoding,
            "value": self.value,
            "value_encoding": self.value_encoding,
            "value_bytes": self.value_bytes,
            "headers": self.headers,
            "dead_letter": self.dead_letter.to_data(),
        }


@dataclass(frozen=True)
class FailureSample:
    """Where one record of a kind of failure is, and its message as written."""

    topic: str
    partition: int
    offset: int
    message: str | None


@dataclass
class FailureKind:
    """Records whose exception class and masked message are the same (see ``fingerprint``)."""

    fingerprint: str
    exception_class: str | None
    pattern: str
    records: int
    sample: FailureSample

    def to_data(self) -> dict[str, Any]:
        s = self.sample
        return {
            "fingerprint": self.fingerprint,
            "exception_class": self.exception_class,
            "pattern": self.pattern,
            "records": self.records,
            "sample": {
                "topic": s.topic,
                "partition": s.partition,
                "offset": s.offset,
                "message": s.message,
            },
        }


@dataclass(frozen=True)
class DlqTopicRead:
    topic: str
    partitions: int
    #: Records read (before filters): from each partition's log start to the end offset
    #: captured at start.
    records: int


@dataclass(frozen=True)
class DlqReport:
    environment: str
    bootstrap: str
    #: Unix time at which the end offsets were captured: records after it are not read.
    inspected_at: float
    topics: list[DlqTopicRead]
    #: Records read; ``total`` of them matched the filters (all of them when ``filtered`` is off).
    read: int
    filtered: bool
    total: int
    by_dialect: dict[str, int]
    by_exception_class: dict[str, int]
    #: Kinds of failure, the most frequent first: class + message with its variable parts masked.
    by_failure: list[FailureKind]
    by_origin_topic: dict[str, int]
    #: "YYYY-MM-DDTHH:00:00+00:00" (UTC) -> records, from failed-at or the record timestamp.
    by_hour: dict[str, int]
    #: Records with at least one header that could not be decoded (e.g. a non-numeric partition).
    malformed_headers: int
    oldest_ms: int | None
    newest_ms: int | None
    samples: list[DlqSample] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "bootstrap": self.bootstrap,
            "inspected_at": _iso(int(self.inspected_at * 1000)),
            "topics": [
                {"topic": t.topic, "partitions": t.partitions, "records": t.records}
                for t in self.topics
            ],
            "read": self.read,
            "filtered": self.filtered,
            "total": self.total,
            "malformed_headers": self.malformed_headers,
            "oldest": _iso(self.oldest_ms),
            "newest": _iso(self.newest_ms),
            "by_dialect": self.by_dialect,
            "by_exception_class": self.by_exception_class,
            "by_failure": [k.to_data() for k in self.by_failure],
            "by_origin_topic": self.by_origin_topic,
            "by_hour": self.by_hour,
            "samples": [s.to_data() for s in self.samples],
        }

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        if not self.topics:
            console.print(f"no dead-letter topics on {escape(self.bootstrap)}")
            return
        names = ", ".join(f"{t.topic} ({t.records})" for t in self.topics)
        console.print(
            f"[bold]{self.total}[/] dead-lettered record(s) in {escape(names)};"
            f" oldest {_iso(self.oldest_ms) or '-'}, newest {_iso(self.newest_ms) or '-'}"
        )
        if self.filtered:
            console.print(f"{self.total} of {self.read} record(s) read match the filters")
        if self.malformed_headers:
            console.print(
                f"[yellow]{self.malformed_headers} record(s) with malformed dead-letter headers[/]"
            )
        for title, counts in (
            ("dialect", self.by_dialect),
            ("exception class", self.by_exception_class),
            ("origin topic", self.by_origin_topic),
            ("hour (UTC)", self.by_hour),
        ):
            if not counts:
                continue
            table = Table(title=f"by {title}", title_justify="left")
            table.add_column(title, overflow="fold")
            table.add_column("records", justify="right", no_wrap=True)
            for name, count in counts.items():
                table.add_row(escape(name), str(count))
            console.print(table)
        if self.by_failure:
            _failure_table(console, self.by_failure)
        for s in self.samples:
            d = s.dead_letter
            console.print(
                f"[bold]{escape(s.topic)}[{s.partition}]@{s.offset}[/] {d.dialect.value}:"
                f" {escape(str(d.exception_class))}: {escape(str(d.exception_message))}"
                f" (from {escape(str(d.origin_topic))}[{d.origin_partition}]@{d.origin_offset})"
            )
            console.print(f"  key {escape(repr(s.key))}, value {escape(repr(s.value))}")
            for h in s.headers:
                console.print(f"  {escape(h['name'])}: {escape(repr(h['value']))}")


def _failure_table(console: Console, kinds: list[FailureKind]) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="by kind of failure", title_justify="left")
    table.add_column("kind", no_wrap=True)
    table.add_column("records", justify="right", no_wrap=True)
    table.add_column("exception class and message (varying parts masked)", overflow="fold")
    table.add_column("sample", no_wrap=True)
    for k in kinds:
        where = f"{k.sample.topic}[{k.sample.partition}]@{k.sample.offset}"
        text = f"{k.exception_class or '(none)'}: {k.pattern}"
        table.add_row(k.fingerprint, str(k.records), escape(text), escape(where))
    console.print(table)


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()
