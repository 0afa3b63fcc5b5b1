"""A producer that copies records between topics: idempotent, ``acks=all``, keys partitioned
as the Java client does (murmur2), and with a transactional id, transactional: records and a
consumer group's offsets commit together (exactly once), or neither does.

Without a transactional id it is at least once: :meth:`KafkaProducer.flush_deliveries`
reports the first failed delivery. Every failure is raised as a KafkaCallError; one that made
the producer fatal (fenced by a newer producer with the same id, say) is reported as the error
that caused it, not as librdkafka's later "Fatal error".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from hyperscale.clients.kafka.config import client_config
from hyperscale.clients.kafka.errors import KafkaCallError, failure_of
from hyperscale.clients.kafka.models import Headers, TopicPartitionKey
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.config.models import Environment
from hyperscale.context import AppContext

#: The local queue of records not yet sent, bounded like a reader's prefetch: flat memory.
QUEUE_KBYTES = 16_384
COMMIT_ATTEMPTS = 3


class KafkaProducer:
    def __init__(
        self,
        env: Environment,
        app: AppContext,
        *,
        transactional_id: str | None,
        timeout: float,
    ) -> None:
        """With ``transactional_id`` the transactions are initialised here, which fences any
        older producer with the same id and aborts its open transaction."""
        from confluent_kafka import KafkaException, Producer

        self.timeout = timeout
        self.transactional = transactional_id is not None
        self.fatal_error: Any = None
        self.delivery_error: Any = None
        # Bound once: the hot path would otherwise import it on every record.
        self._kafka_exception: type[Exception] = KafkaException
        # Transactions report failed deliveries at commit; only at-least-once needs a callback.
        self._delivery: dict[str, Any] = (
            {} if self.transactional else {"on_delivery": self._delivered}
        )
        config: dict[str, Any] = {
            **client_config(env, app),
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "batch.size": 1_000_000,
            "queue.buffering.max.kbytes": QUEUE_KBYTES,
            "error_cb": self._on_error,
        }
        if transactional_id is not None:
            config["transactional.id"] = transactional_id
            config["transaction.timeout.ms"] = 60_000
        self.producer = Producer(config)
        if self.transactional:
            try:
                self.producer.init_transactions(timeout)
            except KafkaException as exc:
                self.producer.flush(0)
                raise KafkaCallError(failure_of(exc)) from None

    def begin(self) -> None:
        try:
            self.producer.begin_transaction()
        except self._kafka_exception as exc:
            raise self._call_error(exc) from None

    def produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp_ms: int | None,
        headers: Headers,
    ) -> None:
        """Queue one record; ``partition`` None lets the partitioner choose from the key."""
        # A list is invariant: the client's stub takes str values too, ours are only bytes.
        wire_headers = cast("list[tuple[str, str | bytes | None]]", headers)
        while True:
            try:
                self.producer.produce(
                    topic,
                    value=value,
                    key=key,
                    partition=-1 if partition is None else partition,
                    timestamp=timestamp_ms or 0,
                    headers=wire_headers,
                    **self._delivery,
                )
            except BufferError:  # the local queue is full: let deliveries drain it
                self.producer.poll(0.002)
            except self._kafka_exception as exc:
                raise self._call_error(exc) from None
            else:
                return

    def poll(self, timeout: float = 0) -> None:
        """Serve delivery reports and the error callback."""
        try:
            self.producer.poll(timeout)
        except self._kafka_exception as exc:
            raise self._call_error(exc) from None

    def send_offsets(
        self, offsets: Mapping[TopicPartitionKey, int], reader: AssignedReader
    ) -> None:
        """Add the reader's group offsets (the next offset to read) to the open transaction."""
        from confluent_kafka import TopicPartition

        positions = [TopicPartition(t, p, o) for (t, p), o in offsets.items()]
        try:
            self.producer.send_offsets_to_transaction(
                positions, reader.group_metadata(), self.timeout
            )
        except self._kafka_exception as exc:
            raise self._call_error(exc) from None

    def commit(self) -> None:
        """Commit the open transaction, again when the broker says it may be retried."""
        for attempt in range(COMMIT_ATTEMPTS):
            try:
                self.producer.commit_transaction(self.timeout)
            except self._kafka_exception as exc:
                error = self._call_error(exc)
                if not error.failure.retriable or attempt == COMMIT_ATTEMPTS - 1:
                    raise error from None
            else:
                return

    def abort(self) -> None:
        try:
            self.producer.abort_transaction(self.timeout)
        except self._kafka_exception as exc:
            raise self._call_error(exc) from None

    def flush_deliveries(self) -> None:
        """Wait until every queued record is delivered; raise the first failed delivery."""
        if self.producer.flush(self.timeout) or self.delivery_error is not None:
            raise KafkaCallError(failure_of(self.delivery_error or "delivery timed out"))

    def flush(self) -> None:
        """Send what is queued, waiting at most the timeout; failures are not looked at."""
        self.producer.flush(self.timeout)

    def _delivered(self, error: Any, _message: Any) -> None:
        if error is not None and self.delivery_error is None:
            self.delivery_error = error

    def _on_error(self, error: Any) -> None:
        """librdkafka's error callback: keeps the first fatal error, which later calls only
        summarise as "Fatal error"."""
        if self.fatal_error is None and failure_of(error).fatal:
            self.fatal_error = error

    def _call_error(self, exc: Exception) -> KafkaCallError:
        failure = failure_of(exc)
        if failure.name == "_FATAL":
            failure = failure_of(self._underlying_fatal_error(exc))
        return KafkaCallError(failure)

    def _underlying_fatal_error(self, exc: Exception) -> Any:
        """The error that made the producer fatal (e.g. fenced): polling serves the error
        callback, or raises the real one."""
        try:
            self.producer.poll(0)
        except self._kafka_exception as raised:
            return raised if raised.args else exc
        return self.fatal_error or exc
