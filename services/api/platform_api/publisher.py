"""The Kafka producer: records go out with acks=all and idempotence, and each one's delivery
report comes back to the event loop as an asyncio future.

The producer's callbacks run on one background thread that polls it, so nothing here blocks the
event loop. The API answers 202 only once the broker has acknowledged a record; the wait is
bounded (``DELIVERY_WAIT_S``) and so is librdkafka's own attempt (``message.timeout.ms`` and
``request.timeout.ms``; librdkafka checks for expiry about once a second), so a record is
either acknowledged or reported failed within about two seconds.

When the producer knows no broker is reachable (a metadata probe failed: at start, or after
librdkafka reported all brokers down), requests are refused at once with 503 instead of each
waiting out the delivery timeout; the background thread probes the cluster every second
meanwhile and lets requests through again as soon as a broker answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from platform_api.errors import DependencyUnavailableError
from platform_api.metrics import (
    KAFKA_AVAILABLE,
    KAFKA_DELIVERY_FAILURES,
    KAFKA_LATE_DELIVERIES,
    KAFKA_PRODUCER_REPLACEMENTS,
)
from platform_api.settings import Settings

log = logging.getLogger(__name__)

#: librdkafka gives up on a record after this long (queued or in flight) and reports it failed.
MESSAGE_TIMEOUT_MS = 900
#: How long a request waits for its delivery reports before answering 503.
DELIVERY_WAIT_S = 0.95
#: Cluster metadata: probe timeout, how long readiness reuses an answer, probe interval while down.
PROBE_TIMEOUT_S = 0.5
METADATA_CACHE_S = 1.0
PROBE_INTERVAL_S = 1.0
#: After this long unreachable, a new producer replaces the old one. librdkafka was seen to stop
#: reconnecting after several broker restarts in a row (no connection attempt at all while a
#: fresh client connected at once); a new client is the dependable way back.
REPLACE_AFTER_S = 5.0
POLL_INTERVAL_S = 0.05
CLOSE_FLUSH_S = 5.0


class _OncePerInterval(logging.Filter):
    """librdkafka repeats a failing connection's error many times a second: keep one a minute."""

    def __init__(self, interval_s: float) -> None:
        super().__init__()
        self._interval_s = interval_s
        self._last: dict[str, float] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if len(self._last) > 1000:  # noqa: PLR2004 - a bound, not a tunable
            self._last.clear()
        shape = re.sub(r"\d+", "#", record.getMessage())
        if now - self._last.get(shape, float("-inf")) < self._interval_s:
            return False
        self._last[shape] = now
        return True


LIBRDKAFKA_LOG = logging.getLogger("platform_api.librdkafka")
LIBRDKAFKA_LOG.addFilter(_OncePerInterval(60.0))


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class DeliveryError(Exception):
    """The broker did not acknowledge a record; ``reason`` is librdkafka's error name."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True)
class PublishOutcome:
    """What became of a batch when the wait ended."""

    delivered: int
    #: Indexes of records that failed, or were never sent: definitely not on the topic.
    failed: list[int]
    #: Indexes of records still unconfirmed at the deadline: they may yet be acknowledged.
    unconfirmed_indexes: list[int]
    #: Their futures, in the same order; each settles when its delivery report arrives.
    unconfirmed: list[asyncio.Future[None]]
    reason: str | None

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unconfirmed


def producer_config(settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {
        "bootstrap.servers": settings.kafka_bootstrap_servers,
        "security.protocol": settings.kafka_security_protocol,
        "client.id": "platform-api",
        "acks": "all",
        "enable.idempotence": True,
        "message.timeout.ms": MESSAGE_TIMEOUT_MS,
        "request.timeout.ms": MESSAGE_TIMEOUT_MS,
        "linger.ms": 2,
        "socket.connection.setup.timeout.ms": 1000,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 1000,
        "log.connection.close": False,  # brokers close idle connections; that is no news
    }
    if settings.kafka_sasl_mechanism:
        password = settings.kafka_sasl_password()
        config["sasl.mechanism"] = settings.kafka_sasl_mechanism
        config["sasl.username"] = settings.kafka_sasl_username
        config["sasl.password"] = password.get_secret_value() if password else ""
    return config


class Publisher:
    def __init__(self, settings: Settings) -> None:
        self._config = producer_config(settings)
        self._topics = (settings.orders_topic, settings.events_topic)
        self._lock = threading.Lock()  # guards replacing the producer after a fatal error
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._available = True  # until librdkafka or a probe says otherwise
        self._unavailable_since = time.monotonic()
        KAFKA_AVAILABLE.set(1)
        self._fatal = False
        self._probe_requested = threading.Event()
        self._last_probe: tuple[float, str | None] = (float("-inf"), None)
        self._probe_lock = asyncio.Lock()
        self._producer = self._new_producer()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._serve, name="kafka-poll", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        remaining = await asyncio.to_thread(self._producer.flush, CLOSE_FLUSH_S)
        if remaining:
            log.warning("%d records were still unacknowledged at shutdown", remaining)

    def _new_producer(self) -> Producer:
        return Producer({**self._config, "error_cb": self._on_error, "logger": LIBRDKAFKA_LOG})

    def _serve(self) -> None:
        """The poll thread: runs delivery callbacks, probes while down, replaces a dead producer."""
        self._probe_requested.set()  # learn now, not on the first order, whether a broker answers
        next_probe = 0.0
        while not self._stopping.is_set():
            try:
                self._producer.poll(POLL_INTERVAL_S)
                down_for = time.monotonic() - self._unavailable_since
                if self._fatal or (not self._available and down_for > REPLACE_AFTER_S):
                    self._replace_producer()
                    self._unavailable_since = time.monotonic()
                probe_due = not self._available and time.monotonic() >= next_probe
                if probe_due or self._probe_requested.is_set():
                    self._probe_requested.clear()
                    next_probe = time.monotonic() + PROBE_INTERVAL_S
                    self._probe_metadata()
            except Exception:
                # Without this thread no delivery report arrives: it must outlive any surprise.
                log.exception("the Kafka poll loop failed; continuing")
                time.sleep(POLL_INTERVAL_S)

    def _replace_producer(self) -> None:
        with self._lock:
            old, self._producer = self._producer, self._new_producer()
            self._fatal = False
        KAFKA_PRODUCER_REPLACEMENTS.inc()
        log.warning("replaced the Kafka producer (fatal error, or unreachable too long)")
        old.flush(MESSAGE_TIMEOUT_MS / 1000)  # fails its queued records through callbacks

    # -- availability ----------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self._available

    def _set_available(self, available: bool, why: str = "") -> None:
        if available != self._available:
            self._available = available
            self._unavailable_since = time.monotonic()
            KAFKA_AVAILABLE.set(1 if available else 0)
            if available:
                log.warning("Kafka is reachable again; accepting writes")
            else:
                log.warning("Kafka unreachable (%s); refusing writes until a broker answers", why)

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            log.error("fatal Kafka producer error: %s", error)
            self._fatal = True
        elif error.code() == KafkaError._ALL_BROKERS_DOWN:
            # Also said when an idle connection closes: a probe decides whether it is an outage.
            self._probe_requested.set()

    def _probe_metadata(self) -> str | None:
        """Metadata for both topics (blocking, so only from a thread); None when all is well.

        Only an unreachable cluster makes the producer refuse writes; a missing topic is
        reported to readiness but each write still gets its own answer.
        """
        try:
            reachable, problem = self._describe_topics()
        except KafkaException as exc:
            reachable, problem = False, _kafka_error_name(exc)
        self._last_probe = (time.monotonic(), problem)
        self._set_available(reachable, problem or "")
        return problem

    def _describe_topics(self) -> tuple[bool, str | None]:
        for topic in self._topics:
            metadata = self._producer.list_topics(topic, timeout=PROBE_TIMEOUT_S)
            if not metadata.brokers:
                return False, "no brokers in the cluster metadata"
            described = metadata.topics.get(topic)
            error = described.error if described is not None else None
            if described is None or error is not None:
                return True, f"topic {topic}: {error.name() if error else 'missing'}"
        return True, None

    async def check(self) -> str | None:
        """Readiness: a cluster metadata request, answered from a 1 s cache. None means up."""
        async with self._probe_lock:
            probed_at, problem = self._last_probe
            if time.monotonic() - probed_at < METADATA_CACHE_S:
                return problem
            return await asyncio.to_thread(self._probe_metadata)

    # -- publishing ------------------------------------------------------------------------

    def send(self, record: Record) -> asyncio.Future[None]:
        """Hand one record to the producer; the future settles on its delivery report."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def on_delivery(error: KafkaError | None, _message: Message) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
                loop.call_soon_threadsafe(self._settle, future, record.topic, error)

        headers: list[tuple[str, str | bytes | None]] = list(record.headers)
        with self._lock:
            try:
                self._producer.produce(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    headers=headers,
                    on_delivery=on_delivery,
                )
            except BufferError:
                KAFKA_DELIVERY_FAILURES.labels(record.topic, "queue_full").inc()
                raise DependencyUnavailableError("kafka", "the producer queue is full") from None
            except KafkaException as exc:
                reason = _kafka_error_name(exc)
                KAFKA_DELIVERY_FAILURES.labels(record.topic, reason).inc()
                raise DependencyUnavailableError("kafka", reason) from None
        return future

    def _settle(self, future: asyncio.Future[None], topic: str, error: KafkaError | None) -> None:
        if error is None:
            self._set_available(True)
            if not future.done():
                future.set_result(None)
            return
        KAFKA_DELIVERY_FAILURES.labels(topic, error.name()).inc()
        if not future.done():
            future.set_exception(DeliveryError(error.name(), error.str()))

    async def publish(self, records: Sequence[Record]) -> PublishOutcome:
        """Send the records and wait for their reports, at most ``DELIVERY_WAIT_S``.

        While no broker is reachable nothing is sent and every record is failed at once.
        Records still unconfirmed at the deadline are reported apart: they may yet land.
        """
        if not self._available:
            for record in records:
                KAFKA_DELIVERY_FAILURES.labels(record.topic, "unavailable").inc()
            return PublishOutcome(0, list(range(len(records))), [], [], "no broker is reachable")
        futures: list[asyncio.Future[None]] = []
        reason: str | None = None
        for record in records:
            try:
                futures.append(self.send(record))
            except DependencyUnavailableError as exc:
                reason = exc.message
                break
        if futures:
            await asyncio.wait(futures, timeout=DELIVERY_WAIT_S)
        delivered, failed, unconfirmed_indexes, unconfirmed = 0, [], [], []
        for index, future in enumerate(futures):
            topic = records[index].topic
            if not future.done():
                unconfirmed_indexes.append(index)
                unconfirmed.append(future)
                KAFKA_DELIVERY_FAILURES.labels(topic, "unconfirmed").inc()
                future.add_done_callback(_late_report(topic))
            elif future.exception() is not None:
                failed.append(index)
                reason = reason or str(future.exception())
            else:
                delivered += 1
        failed.extend(range(len(futures), len(records)))  # never handed to the producer
        if unconfirmed:
            reason = reason or f"no acknowledgement within {DELIVERY_WAIT_S:g} s"
        return PublishOutcome(delivered, failed, unconfirmed_indexes, unconfirmed, reason)


def _late_report(topic: str) -> Callable[[asyncio.Future[None]], None]:
    def report(future: asyncio.Future[None]) -> None:
        if future.cancelled() or future.exception() is not None:
            return  # a failure was counted when it was reported
        KAFKA_LATE_DELIVERIES.labels(topic).inc()
        log.warning("a record on %s was acknowledged after its request was answered 503", topic)

    return report


def _kafka_error_name(exc: KafkaException) -> str:
    error = exc.args[0] if exc.args else None
    return error.name() if isinstance(error, KafkaError) else str(exc)
