"""What the consumer read from Kafka, decoded into events or set aside as poison."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from platform_events import MarketingEvent, OrderCreated, decode_event

Event = OrderCreated | MarketingEvent

# confluent_kafka's TIMESTAMP_NOT_AVAILABLE; compared by value so this module needs no SDK import.
_TIMESTAMP_NOT_AVAILABLE = 0


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    """A consumed record. Key, headers and timestamp are read only to dead-letter it."""

    topic: str
    partition: int
    offset: int
    value: bytes | None
    #: The ``confluent_kafka.Message`` (it carries no error).
    message: Any = field(repr=False, compare=False)

    @classmethod
    def from_message(cls, message: Any) -> KafkaRecord:
        return cls(message.topic(), message.partition(), message.offset(), message.value(), message)

    @property
    def key(self) -> bytes | None:
        key: bytes | None = self.message.key()
        return key

    @property
    def headers(self) -> list[tuple[str, bytes | None]]:
        return list(self.message.headers() or ())

    @property
    def timestamp_ms(self) -> int | None:
        kind, timestamp = self.message.timestamp()
        return None if kind == _TIMESTAMP_NOT_AVAILABLE else int(timestamp)


@dataclass(frozen=True, slots=True)
class DecodedRecord:
    record: KafkaRecord
    event: Event
    event_id: str


@dataclass(frozen=True, slots=True)
class PoisonRecord:
    """A record that cannot be applied: why, and after how many tries."""

    record: KafkaRecord
    error: BaseException
    attempts: int


class EmptyRecordError(ValueError):
    """A record without a value (a tombstone) carries no event."""


class UnapplicableRecordError(ValueError):
    """A decoded event whose values cannot be turned into rows (the cause is chained).

    Raised while building one record's SQL, before anything is sent: a retry cannot change
    the record, so it is dead-lettered at once rather than crashing or wedging the consumer.
    """


def decode_records(
    records: Iterable[KafkaRecord],
) -> tuple[list[DecodedRecord], list[PoisonRecord]]:
    """Decode each value; a record that fails is poison at once (a retry cannot fix its bytes).

    Any exception counts, not only the contract's ``ValueError``: whatever a record's bytes make
    the decoder raise is that record's fault, and one bad record must not stop the partition.
    """
    decoded: list[DecodedRecord] = []
    poison: list[PoisonRecord] = []
    for record in records:
        if record.value is None:
            poison.append(PoisonRecord(record, EmptyRecordError("the record has no value"), 1))
            continue
        try:
            event = decode_event(record.value)
        except Exception as exc:  # noqa: BLE001 - see above; the error is in the dead letter
            poison.append(PoisonRecord(record, exc, attempts=1))
            continue
        decoded.append(DecodedRecord(record, event, str(event.event_id)))
    return decoded, poison


def next_offsets(records: Sequence[KafkaRecord]) -> dict[tuple[str, int], int]:
    """The offset to commit per partition: one past the highest offset seen."""
    offsets: dict[tuple[str, int], int] = {}
    for record in records:
        position = (record.topic, record.partition)
        if record.offset + 1 > offsets.get(position, -1):
            offsets[position] = record.offset + 1
    return offsets
