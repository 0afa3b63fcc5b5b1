"""Poll a batch, apply it to MySQL, dead-letter the poison, then commit the offsets.

The order is the guarantee: offsets are committed only after the MySQL COMMIT (and after
every poison record of the batch is on its dead-letter topic). Whatever fails before that is
retried with the same records, and processed_events makes a second application a no-op, so
a crash at any point leaves every event applied exactly once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from platform_consumer.apply import BatchResult, apply_in_transaction
from platform_consumer.db import Database, error_code, is_connection_loss, is_retryable
from platform_consumer.dlq import DeadLetterError, DeadLetterProducer
from platform_consumer.health import Heartbeat
from platform_consumer.logs import rate_limited_logger
from platform_consumer.metrics import ConsumerMetrics
from platform_consumer.progress import ProgressWatchdog
from platform_consumer.records import (
    DecodedRecord,
    KafkaRecord,
    PoisonRecord,
    decode_records,
    next_offsets,
)
from platform_consumer.retention import ProcessedEventsPruner, topic_retention_from_admin
from platform_consumer.settings import ConsumerSettings

log = logging.getLogger(__name__)
_kafka_log = rate_limited_logger("platform_consumer.kafka")

T = TypeVar("T")

PROGRESS_LOG_EVERY_S = 60.0
BLOCKED_CALL_PATIENCE_S = 300.0  # as long as max.poll.interval.ms: the group's own patience

# librdkafka error names (KafkaError.name()) that a later offset commit can outlive.
COMMIT_RETRYABLE = frozenset(
    {
        "_TRANSPORT",
        "_TIMED_OUT",
        "_WAIT_COORD",
        "_ALL_BROKERS_DOWN",
        "_MSG_TIMED_OUT",
        "REQUEST_TIMED_OUT",
        "NETWORK_EXCEPTION",
        "COORDINATOR_NOT_AVAILABLE",
        "NOT_COORDINATOR",
        "COORDINATOR_LOAD_IN_PROGRESS",
    }
)


class StopGraceExceededError(Exception):
    """The stop's grace period ran out in the middle of a batch: it is abandoned uncommitted."""


class StopSignal:
    """Set by SIGTERM/SIGINT. The current batch still finishes, within a grace period."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        # A plain attribute, not a threading.Event: request runs in a signal handler, and an
        # Event's lock taken there while the main thread held it would hang the consumer.
        self._requested_at: float | None = None

    def request(self, reason: str) -> None:
        if self._requested_at is not None:
            log.warning("already stopping", extra={"reason": reason})
            return
        self._requested_at = time.monotonic()
        log.info("stopping after the current batch", extra={"reason": reason})

    def is_set(self) -> bool:
        return self._requested_at is not None

    def grace_exceeded(self) -> bool:
        return (
            self._requested_at is not None and time.monotonic() - self._requested_at > self.grace_s
        )


class KafkaErrors:
    """librdkafka's error callback: transient errors are logged (the client retries them),
    a fatal one stops the loop."""

    def __init__(self) -> None:
        self.fatal: str | None = None

    def report(self, error: Any) -> None:
        if error.fatal():
            self.fatal = str(error)
            _kafka_log.error("fatal Kafka client error", extra={"error": str(error)})
        else:
            _kafka_log.warning(
                "Kafka client error; the client retries", extra={"error": str(error)}
            )


#: Commit errors after which the consumer cannot go on. FENCED_INSTANCE_ID comes to a static
#: member whose session the coordinator ended while it could not be reached (a broker restart
#: longer than the session timeout): it rejoined under a new member id, and the old one's
#: commit is refused, which librdkafka treats as fatal.
COMMIT_FATAL = frozenset({"FENCED_INSTANCE_ID", "_FENCED", "_FATAL"})


def _kafka_error_name(exc: BaseException) -> str | None:
    error = exc.args[0] if exc.args else None
    name = getattr(error, "name", None)
    return str(name()) if callable(name) else None


class ConsumerLoop:
    def __init__(
        self,
        settings: ConsumerSettings,
        consumer: Any,
        database: Database,
        dead_letters: DeadLetterProducer,
        metrics: ConsumerMetrics,
        heartbeat: Heartbeat,
        stop: StopSignal,
        pruner: ProcessedEventsPruner | None = None,
    ) -> None:
        self.settings = settings
        self.consumer = consumer
        self.database = database
        self.dead_letters = dead_letters
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.stop = stop
        self.pruner = pruner
        self.watchdog = ProgressWatchdog(
            consumer, settings.consumer_stall_timeout_s, metrics, heartbeat
        )
        self._totals: Counter[str] = Counter()
        self._last_progress_log = time.monotonic()
        #: Offsets a rebalance refused to commit, for partitions this member may still hold.
        self._unsaved: dict[tuple[str, int], int] = {}

    # -- the loop ---------------------------------------------------------------------------

    def run(self, errors: KafkaErrors | None = None) -> None:
        self.consumer.subscribe(
            list(self.settings.topics),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_lost,
        )
        log.info(
            "consuming",
            extra={"topics": list(self.settings.topics), "group": self.settings.consumer_group},
        )
        timeout = self.settings.consumer_batch_wait_ms / 1000
        while not self.stop.is_set():
            messages = self.consumer.consume(
                num_messages=self.settings.consumer_batch_size, timeout=timeout
            )
            self.heartbeat.polled()
            if errors is not None and errors.fatal:
                raise RuntimeError(f"fatal Kafka client error: {errors.fatal}")
            if self._unsaved:
                self._commit_unsaved()
            records = self._usable(messages)
            if records:
                self.watchdog.progressed()
                self.process(records)
            else:
                self.watchdog.check()  # raises ConsumerStalledError once stuck
            if self.pruner is not None:
                self.pruner.maybe_prune()
            self._log_progress()

    def _usable(self, messages: Sequence[Any]) -> list[KafkaRecord]:
        records = []
        for message in messages:
            error = message.error()
            if error is None:
                records.append(KafkaRecord.from_message(message))
            elif error.fatal():
                raise RuntimeError(f"fatal Kafka client error: {error}")
            else:
                _kafka_log.warning(
                    "Kafka client error; the client retries", extra={"error": str(error)}
                )
        return records

    def process(self, records: list[KafkaRecord]) -> None:
        """One batch, all the way to committed offsets."""
        started = time.perf_counter()
        decoded, poison = decode_records(records)
        result = self._apply(decoded) if decoded else BatchResult()
        letters = [(p, "decode") for p in poison] + [(p, "database") for p in result.failed]
        if letters:
            self._dead_letter(letters)
        self._commit(next_offsets(records))

        elapsed = time.perf_counter() - started
        m = self.metrics
        for topic, count in Counter(r.topic for r in records).items():
            m.records_consumed.labels(topic).inc(count)
        m.events_applied.inc(result.applied)
        m.duplicates_skipped.inc(result.duplicates)
        m.batch_duration.observe(elapsed)
        m.batch_size.observe(len(records))
        self._totals.update(
            records=len(records),
            applied=result.applied,
            duplicates=result.duplicates,
            dead_lettered=len(letters),
        )
        log.debug(
            "batch done",
            extra={
                "records": len(records),
                "applied": result.applied,
                "duplicates": result.duplicates,
                "dead_lettered": len(letters),
                "seconds": round(elapsed, 4),
            },
        )

    # -- MySQL ------------------------------------------------------------------------------

    def _apply(self, decoded: list[DecodedRecord]) -> BatchResult:
        retrying = self._retrying("mysql", is_retryable, self._on_db_retry)
        return retrying(self._apply_once, decoded)

    def _apply_once(self, decoded: list[DecodedRecord]) -> BatchResult:
        try:
            connection = self.database.connection()
            return apply_in_transaction(
                connection,
                decoded,
                self.settings.consumer_max_attempts,
                sleep=self._sleep,
                keep_going=self._keep_going,
            )
        except Exception as exc:
            if is_connection_loss(exc):
                self.database.discard()
            else:
                self.database.rollback_quietly()
            raise

    def _on_db_retry(self, exc: BaseException) -> None:
        if is_connection_loss(exc):
            reason = "connection"
        elif error_code(exc) in (1205, 1213):
            reason = "lock"
        else:
            reason = "other"
        self.metrics.db_retries.labels(reason).inc()

    # -- dead letters -------------------------------------------------------------------------

    def _dead_letter(self, letters: list[tuple[PoisonRecord, str]]) -> None:
        reasons = {id(p): reason for p, reason in letters}
        pending = [p for p, _ in letters]

        def send_once() -> None:
            nonlocal pending
            try:
                self.dead_letters.send(pending)
            except DeadLetterError as exc:
                pending = exc.undelivered
                raise

        retrying = self._retrying(
            "dead-letter",
            lambda exc: isinstance(exc, DeadLetterError),
            lambda _: self.metrics.kafka_retries.labels("dead-letter").inc(),
        )
        retrying(send_once)
        for poison, _ in letters:
            self.metrics.dead_lettered.labels(poison.record.topic, reasons[id(poison)]).inc()

    # -- offsets ----------------------------------------------------------------------------

    def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        partitions = [TopicPartition(t, p, o) for (t, p), o in sorted(offsets.items())]
        retrying = self._retrying(
            "offset-commit",
            lambda exc: _kafka_error_name(exc) in COMMIT_RETRYABLE,
            lambda _: self.metrics.kafka_retries.labels("offset-commit").inc(),
        )
        try:
            retrying(lambda: self._commit_now(partitions))
        except KafkaException as exc:
            if self.stop.grace_exceeded():
                raise
            if _kafka_error_name(exc) in COMMIT_FATAL:
                # Fenced: the client is unusable from here on (librdkafka marks it failed, and
                # a fenced consumer is sent nothing more). Ending the process lets supervision
                # start a fresh one, which joins under the same identity and resumes from the
                # last committed offsets; staying would consume nothing, for ever.
                raise RuntimeError(f"fatal Kafka client error: {exc}") from None
            # The group moved on (a rebalance, or this member was too slow and was evicted):
            # these partitions may belong to another member now. The records are in MySQL, so
            # whoever reads them again skips them as duplicates; nothing is lost or doubled.
            # With incremental rebalancing this member often keeps them, and reads on past
            # those records: the offsets are kept and committed again once the group settles,
            # or a partition left with nothing more to read would stay behind for ever.
            self.metrics.uncommitted_batches.inc()
            self._unsaved.update(offsets)
            log.warning(
                "offsets not committed; kept to commit again once the group settles (the batch"
                " is in MySQL, so a redelivery skips it)",
                extra={"error": str(exc.args[0] if exc.args else exc)},
            )
            return
        for key in offsets:
            self._unsaved.pop(key, None)  # a later offset of the same partition supersedes it
        self.metrics.last_commit.set_to_current_time()

    def _commit_now(self, partitions: list[Any]) -> None:
        """One synchronous commit; a partition the broker refused raises its error."""
        from confluent_kafka import KafkaException

        committed = self._blocking_call(
            lambda: self.consumer.commit(offsets=partitions, asynchronous=False),
            "committing offsets",
        )
        refused = [tp for tp in committed or () if tp.error is not None]
        if refused:
            raise KafkaException(refused[0].error)

    def _commit_unsaved(self) -> None:
        """Commit the refused offsets of the partitions still assigned here, once; left for
        the next pass of the loop while the group is still rebalancing."""
        from confluent_kafka import KafkaException, TopicPartition

        held = {(tp.topic, tp.partition) for tp in self.consumer.assignment()}
        self._unsaved = {key: offset for key, offset in self._unsaved.items() if key in held}
        if not self._unsaved:
            return
        partitions = [TopicPartition(t, p, o) for (t, p), o in sorted(self._unsaved.items())]
        try:
            self._commit_now(partitions)
        except KafkaException as exc:
            if _kafka_error_name(exc) in COMMIT_FATAL:
                raise RuntimeError(f"fatal Kafka client error: {exc}") from None
            return
        log.info("offsets committed after the rebalance", extra={"partitions": len(partitions)})
        self._unsaved.clear()
        self.metrics.last_commit.set_to_current_time()

    # -- retries ----------------------------------------------------------------------------

    def _retrying(
        self,
        what: str,
        retryable: Callable[[BaseException], bool],
        on_retry: Callable[[BaseException], None],
    ) -> Retrying:
        """Exponential backoff, forever while running; for the stop grace once stopping."""

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            if exc is None:
                return
            on_retry(exc)
            log.warning(
                "%s failed; retrying",
                what,
                extra={
                    "operation": what,
                    "attempt": state.attempt_number,
                    "retry_in_s": round(state.upcoming_sleep, 2),
                    "error": f"{type(exc).__name__}: {exc}",
                },
            )

        return Retrying(
            retry=retry_if_exception(retryable),
            wait=wait_exponential_jitter(initial=0.2, max=10.0, jitter=0.5),
            stop=lambda _state: self.stop.grace_exceeded(),
            sleep=self._sleep,
            before_sleep=before_sleep,
            reraise=True,
        )

    def _blocking_call(self, call: Callable[[], T], state: str) -> T:
        """Run a librdkafka call that can block (a synchronous commit waits for the group
        coordinator while a broker is down) and keep the heartbeat going meanwhile, up to
        BLOCKED_CALL_PATIENCE_S: beyond that the loop counts as hung and /healthz says so.
        """
        outcome: list[T] = []
        failure: list[BaseException] = []
        done = threading.Event()

        def target() -> None:
            try:
                outcome.append(call())
            except BaseException as exc:  # noqa: BLE001 - re-raised in the loop's thread below
                failure.append(exc)
            finally:
                done.set()

        # A daemon thread, so a call that never returns cannot keep the process from exiting.
        threading.Thread(target=target, name="kafka-call", daemon=True).start()
        started = time.monotonic()
        while not done.wait(1.0):
            if time.monotonic() - started < BLOCKED_CALL_PATIENCE_S:
                self.heartbeat.beat(state)
        self.heartbeat.beat()
        if failure:
            raise failure[0]
        return outcome[0]

    def _keep_going(self) -> None:
        """Between the records of a record-by-record pass: past the stop's grace, give up."""
        if self.stop.grace_exceeded():
            raise StopGraceExceededError(
                f"stopping: the batch outlasted the {self.stop.grace_s:g} s grace; it is rolled"
                " back uncommitted and will be redelivered"
            )

    def _sleep(self, seconds: float) -> None:
        self.heartbeat.beat("retrying")
        time.sleep(seconds)
        self.heartbeat.beat()

    # -- callbacks and logs -----------------------------------------------------------------

    def _on_assign(self, _consumer: Any, partitions: list[Any]) -> None:
        log.info("partitions assigned", extra={"partitions": _names(partitions)})

    def _on_revoke(self, _consumer: Any, partitions: list[Any]) -> None:
        # Nothing is in flight here: a batch is committed before the next poll.
        self._forget_unsaved(partitions)
        log.info("partitions revoked", extra={"partitions": _names(partitions)})

    def _on_lost(self, _consumer: Any, partitions: list[Any]) -> None:
        self._forget_unsaved(partitions)
        log.warning("partitions lost", extra={"partitions": _names(partitions)})

    def _forget_unsaved(self, partitions: list[Any]) -> None:
        """A partition that leaves is the next owner's: its offsets may be ahead of ours by
        the time this member could hold it again, so ours are never committed after that."""
        for tp in partitions:
            self._unsaved.pop((tp.topic, tp.partition), None)

    def _log_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_progress_log >= PROGRESS_LOG_EVERY_S:
            span = now - self._last_progress_log
            self._last_progress_log = now
            totals, self._totals = self._totals, Counter()
            log.info(
                "progress",
                extra={
                    **dict(totals),
                    "records_per_s": round(totals["records"] / span, 1),
                    "window_s": round(span, 1),
                },
            )


def _names(partitions: list[Any]) -> list[str]:
    return [f"{tp.topic}[{tp.partition}]" for tp in partitions]


def consumer_config(settings: ConsumerSettings, errors: KafkaErrors) -> dict[str, Any]:
    return {
        **settings.kafka_common(),
        "group.id": settings.consumer_group,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        # Scaling out moves only the partitions that must move; the others keep consuming.
        "partition.assignment.strategy": "cooperative-sticky",
        "session.timeout.ms": settings.consumer_session_timeout_ms,
        "heartbeat.interval.ms": max(1_000, settings.consumer_session_timeout_ms // 4),
        **(
            {"group.instance.id": settings.consumer_instance_id}
            if settings.consumer_instance_id
            else {}
        ),
        # Prefetch bound: 16 MiB is tens of thousands of events, seconds of work, and keeps the
        # memory flat however far behind the group is (librdkafka's default is 64 MiB).
        "queued.max.messages.kbytes": 16_384,
        "logger": rate_limited_logger("platform_consumer.librdkafka.consumer"),
        "error_cb": errors.report,
    }


def run_consumer(
    settings: ConsumerSettings, metrics: ConsumerMetrics, heartbeat: Heartbeat, stop: StopSignal
) -> None:
    """Build the clients, run the loop until stopped, then leave the group and close."""
    from confluent_kafka import Consumer

    metrics.prime(settings.topics)
    errors = KafkaErrors()
    database = Database(settings)
    dead_letters = DeadLetterProducer(
        {**settings.kafka_common(), "error_cb": errors.report},
        settings.dlq_suffix,
        settings.consumer_group,
        heartbeat.beat,
    )
    consumer = Consumer(consumer_config(settings, errors))
    try:
        pruner = ProcessedEventsPruner(
            settings, database, metrics, topic_retention_from_admin(settings.kafka_common())
        )
        loop = ConsumerLoop(
            settings, consumer, database, dead_letters, metrics, heartbeat, stop, pruner
        )
        loop.run(errors)
    finally:
        consumer.close()  # leaves the group at once, so the partitions move without a timeout
        dead_letters.close()
        database.close()
        log.info("consumer closed")
