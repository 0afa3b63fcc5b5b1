"""Dead-letter headers: what the consumer writes on a record it sends to ``<topic>.dlq``.

The record keeps its original key, value, headers and timestamp; these headers are added (all
values UTF-8 strings). ``hyperscale kafka dlq inspect|replay`` reads them back.

| header                           | value                                             |
|----------------------------------|---------------------------------------------------|
| hyperscale.dlq.original-topic    | topic the record was consumed from                |
| hyperscale.dlq.original-partition| its partition (decimal)                           |
| hyperscale.dlq.original-offset   | its offset (decimal)                              |
| hyperscale.dlq.original-timestamp| its timestamp, milliseconds since the epoch       |
| hyperscale.dlq.consumer-group    | the consumer group that gave up on it             |
| hyperscale.dlq.exception-class   | e.g. ``pydantic_core.ValidationError``            |
| hyperscale.dlq.exception-message | the error, truncated to 1,000 characters          |
| hyperscale.dlq.attempts          | how many times processing was tried (decimal)     |
| hyperscale.dlq.failed-at         | when it was dead-lettered, ms since the epoch     |
| hyperscale.dlq.replay-count      | set by `kafka dlq replay`: times replayed so far  |
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "hyperscale.dlq."
ORIGINAL_TOPIC = PREFIX + "original-topic"
ORIGINAL_PARTITION = PREFIX + "original-partition"
ORIGINAL_OFFSET = PREFIX + "original-offset"
ORIGINAL_TIMESTAMP = PREFIX + "original-timestamp"
CONSUMER_GROUP = PREFIX + "consumer-group"
EXCEPTION_CLASS = PREFIX + "exception-class"
EXCEPTION_MESSAGE = PREFIX + "exception-message"
ATTEMPTS = PREFIX + "attempts"
FAILED_AT = PREFIX + "failed-at"
REPLAY_COUNT = PREFIX + "replay-count"

DLQ_HEADERS = (
    ORIGINAL_TOPIC,
    ORIGINAL_PARTITION,
    ORIGINAL_OFFSET,
    ORIGINAL_TIMESTAMP,
    CONSUMER_GROUP,
    EXCEPTION_CLASS,
    EXCEPTION_MESSAGE,
    ATTEMPTS,
    FAILED_AT,
)

MESSAGE_LIMIT = 1000


@dataclass(frozen=True)
class DeadLetterHeaders:
    original_topic: str
    original_partition: int
    original_offset: int
    original_timestamp_ms: int
    consumer_group: str
    exception_class: str
    exception_message: str
    attempts: int
    failed_at_ms: int

    def encode(self) -> list[tuple[str, bytes]]:
        values = {
            ORIGINAL_TOPIC: self.original_topic,
            ORIGINAL_PARTITION: str(self.original_partition),
            ORIGINAL_OFFSET: str(self.original_offset),
            ORIGINAL_TIMESTAMP: str(self.original_timestamp_ms),
            CONSUMER_GROUP: self.consumer_group,
            EXCEPTION_CLASS: self.exception_class,
            EXCEPTION_MESSAGE: self.exception_message[:MESSAGE_LIMIT],
            ATTEMPTS: str(self.attempts),
            FAILED_AT: str(self.failed_at_ms),
        }
        return [(name, value.encode()) for name, value in values.items()]
