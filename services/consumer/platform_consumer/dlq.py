"""Poison records -> ``<topic><DLQ_SUFFIX>``, unchanged, with the dead-letter headers added.

The header names and their meaning are the contract in ``platform_events.dlq``; the
``hyperscale kafka dlq`` commands read them back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from platform_events.dlq import DLQ_HEADERS, DeadLetterHeaders

from platform_consumer.logs import rate_limited_logger
from platform_consumer.records import PoisonRecord

log = logging.getLogger(__name__)

Heartbeat = Callable[[], None]


class DeadLetterError(Exception):
    """The dead-letter topic did not acknowledge every record; none may be committed yet."""

    def __init__(self, message: str, undelivered: Sequence[PoisonRecord]) -> None:
        super().__init__(message)
        self.undelivered = list(undelivered)


def exception_class(error: BaseException) -> str:
    """``module.Class``, through the public module: ``pydantic_core.ValidationError``."""
    kind = type(error)
    parts = kind.__module__.split(".")
    public = []
    for part in parts:
        if part.startswith("_"):
            break
        public.append(part)
    return ".".join([*(public or parts), kind.__qualname__])


def dead_letter_headers(
    poison: PoisonRecord, consumer_group: str, failed_at_ms: int
) -> list[tuple[str, str | bytes | None]]:
    """The original headers, minus stale dead-letter headers of an earlier failure, plus ours."""
    record = poison.record
    kept: list[tuple[str, str | bytes | None]] = [
        (name, value) for name, value in record.headers if name not in DLQ_HEADERS
    ]
    added = DeadLetterHeaders(
        original_topic=record.topic,
        original_partition=record.partition,
        original_offset=record.offset,
        original_timestamp_ms=record.timestamp_ms if record.timestamp_ms is not None else -1,
        consumer_group=consumer_group,
        exception_class=exception_class(poison.error),
        exception_message=str(poison.error) or type(poison.error).__name__,
        attempts=poison.attempts,
        failed_at_ms=failed_at_ms,
    ).encode()
    return [*kept, *added]


class DeadLetterProducer:
    """An idempotent producer (acks=all); ``send`` returns only once the broker has them all."""

    def __init__(
        self,
        kafka_config: dict[str, Any],
        dlq_suffix: str,
        consumer_group: str,
        heartbeat: Heartbeat,
    ) -> None:
        from confluent_kafka import Producer

        self._suffix = dlq_suffix
        self._group = consumer_group
        self._heartbeat = heartbeat
        self._producer = Producer(
            {
                **kafka_config,
                "acks": "all",
                "enable.idempotence": True,
                "linger.ms": 5,
                # A delivery report comes within this long, so ``send`` is bounded.
                "message.timeout.ms": 30_000,
                "logger": rate_limited_logger("platform_consumer.librdkafka.producer"),
            }
        )

    def topic_for(self, topic: str) -> str:
        return topic + self._suffix

    def send(self, poison: Sequence[PoisonRecord]) -> None:
        """Produce every record and wait for each delivery report.

        Raises DeadLetterError carrying the records that were not delivered, so a retry sends
        only those (the others are on the topic already).
        """
        from confluent_kafka import KafkaException

        undelivered: list[PoisonRecord] = []
        errors: list[str] = []
        outstanding = 0

        def report(item: PoisonRecord) -> Callable[[Any, Any], None]:
            def delivered(error: Any, _message: Any) -> None:
                nonlocal outstanding
                outstanding -= 1
                if error is not None:
                    undelivered.append(item)
                    errors.append(str(error))

            return delivered

        failed_at_ms = int(time.time() * 1000)
        for item in poison:
            record = item.record
            extra: dict[str, Any] = {}
            if record.timestamp_ms is not None and record.timestamp_ms >= 0:
                extra["timestamp"] = record.timestamp_ms
            try:
                self._producer.produce(
                    self.topic_for(record.topic),
                    key=record.key,
                    value=record.value,
                    headers=dead_letter_headers(item, self._group, failed_at_ms),
                    on_delivery=report(item),
                    **extra,
                )
            except (BufferError, KafkaException) as exc:
                undelivered.append(item)
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            outstanding += 1
            log.warning(
                "dead-lettering a poison record",
                extra={
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "dlq_topic": self.topic_for(record.topic),
                    "error_class": exception_class(item.error),
                    "error": str(item.error)[:300],
                    "attempts": item.attempts,
                },
            )
        while outstanding > 0:  # bounded: every message gets a report within message.timeout.ms
            self._producer.flush(1.0)
            self._heartbeat()
        if undelivered:
            raise DeadLetterError(
                f"{len(undelivered)} of {len(poison)} dead-letter records were not delivered:"
                f" {errors[0]}",
                undelivered,
            )

    def close(self, timeout: float = 10.0) -> None:
        self._producer.flush(timeout)
