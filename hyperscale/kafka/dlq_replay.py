"""`hyperscale kafka dlq replay`: dead letters back to their topics, exactly once. Never prints.

How it stays exactly once
    A consumer group (the *checkpoint group*) holds how far each DLQ partition has been
    replayed. Records are sent by a transactional producer, and the consumed offsets are
    committed to the checkpoint group inside the same transaction
    (``send_offsets_to_transaction``). Either a batch's records and its offsets are both
    committed, or neither is. The transactional id is the group's name, so a run started after
    a crash fences the dead one and aborts its open transaction before reading the checkpoint:
    a replay killed at any point (Ctrl-C, SIGKILL, a lost broker) resumes where the last commit
    left it, with nothing lost and nothing doubled, for readers with
    ``isolation.level=read_committed``.

What a run covers
    Each DLQ partition from the checkpoint (else its log start) to the end offset captured when
    the run starts, so dead letters written during the run, such as replayed records failing
    again, wait for the next run. The checkpoint group's name is derived from the DLQ topics,
    ``--to`` and the filters, so repeating the same command resumes, and a different selection
    starts from the beginning instead of skipping records a narrower filter passed over.

Where each record goes (every record read is counted in exactly one of these)
    - skipped: it does not match the filters (its offset still moves past it);
    - parked in ``<dlq>.parking`` (or ``--parking-topic``), with a reason header, when it has
      been replayed ``--max-attempts`` times already, has no original topic and no ``--to``,
      its original topic is a dead-letter or parking topic, or no longer exists;
    - sent to ``--to`` or its original topic, with its key, value, headers and timestamp,
      ``hyperscale.dlq.replay-count`` set to one more than before, and to its original
      partition when it goes back to its original topic (else the Java client's murmur2
      partitioner, so keys land where Java producers put them).
"""

from __future__ import annotations

import contextlib
import hashlib
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.kafka.client import TopicState, client_config
from hyperscale.kafka.dlq import (
    REPLAY_COUNT,
    choose_dlq_topics,
    decode_headers,
    routing_fields,
    shown,
)
from hyperscale.kafka.dlq_filter import FilterSpec, RecordFilter, build_filter
from hyperscale.kafka.dlq_replay_results import (
    ParkReason,
    PlannedRecord,
    ReplayCounts,
    ReplayReport,
)
from hyperscale.kafka.lag import with_bootstrap
from hyperscale.kafka.throttle import Throttle
from hyperscale.kafka.topic_admin import TopicAdmin
from hyperscale.kafka.topics import TopicSpec, desired_topics

PARKING_SUFFIX = ".parking"
PARKED_REASON = "hyperscale.dlq.parked-reason"
PARKED_FROM = "hyperscale.dlq.parked-from"

#: Called with (records read so far, records to read in this run).
ReplayProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReplayRequest:
    #: DLQ topics; empty: every topic ending with the environment's dead-letter suffix.
    topics: Sequence[str] = ()
    #: Send everything here instead of each record's original topic.
    to: str | None = None
    filters: FilterSpec = field(default_factory=FilterSpec)
    #: Stop after this many records sent or parked (the next run goes on from there).
    limit: int | None = None
    dry_run: bool = False
    #: Park records already replayed this many times instead of replaying them again.
    max_attempts: int = 3
    parking_topic: str | None = None
    #: The checkpoint group; default: derived from topics, --to and filters.
    group: str | None = None
    records_per_second: float | None = None
    bytes_per_second: float | None = None
    #: Off: at least once (idempotent producer, offsets committed after each flushed batch).
    exactly_once: bool = True
    #: A transaction (a checkpoint) ends after this many records or seconds, whichever first.
    transaction_records: int = 10_000
    transaction_seconds: float = 1.0
    #: Records a dry run lists.
    samples: int = 20
    bootstrap: str | None = None
    timeout: float = 10.0


def checkpoint_group(topics: Sequence[str], to: str | None, filters: FilterSpec) -> str:
    """The default checkpoint group: equal selections share it, different ones never do."""
    text = "\n".join([*sorted(topics), f"to={to}", filters.canonical()])
    return "hyperscale-dlq-replay." + hashlib.sha256(text.encode()).hexdigest()[:12]


def replay_dead_letters(
    env: Environment,
    app: AppContext,
    request: ReplayRequest,
    on_progress: ReplayProgress | None = None,
) -> ReplayReport:
    env = with_bootstrap(env, request.bootstrap)
    keep = build_filter(request.filters, time.time())
    admin = TopicAdmin(env, app, timeout=request.timeout)
    existing = admin.topics()
    sources = choose_dlq_topics(env, existing, request.topics, "replay")
    _check_targets(env, request, sources, existing)
    group = request.group or checkpoint_group(sources, request.to, request.filters)
    run = _Replay(env, app, request, admin, existing, keep, group, on_progress)
    return run.execute(sources)


def is_dead_letter_topic(env: Environment, topic: str) -> bool:
    return topic.endswith((env.kafka.topics.dead_letter_suffix, PARKING_SUFFIX))


def _check_targets(
    env: Environment, request: ReplayRequest, sources: list[str], existing: dict[str, TopicState]
) -> None:
    """The loop guard's first half: never replay into a dead-letter or parking topic."""
    to, parking = request.to, request.parking_topic
    if to is not None:
        if to in sources or is_dead_letter_topic(env, to):
            raise UsageError(
                f"refusing to replay into {to}: it is a dead-letter topic, so records would loop",
                hint="--to names the topic the records should be processed from again",
            )
        if to not in existing:
            raise UsageError(f"no topic {to} on {env.kafka.bootstrap} (--to)")
    if parking is not None and (parking in sources or parking == to):
        raise UsageError(f"--parking-topic {parking} is also a topic being replayed or the target")


@dataclass
class _Batch:
    """What the open transaction holds: counted into the totals only once it commits."""

    counts: ReplayCounts = field(default_factory=ReplayCounts)
    #: (topic, partition) -> the next offset to read: what the checkpoint will say.
    positions: dict[tuple[str, int], int] = field(default_factory=dict)
    started: float = 0.0
    open: bool = False

    @property
    def records(self) -> int:
        return self.counts.read


class _Stop:
    """Ctrl-C or SIGTERM: finish the current record, commit, stop. A second one aborts."""

    def __init__(self) -> None:
        self.requested = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def request(signum: int, frame: Any) -> None:
            self.requested = True
            for s, handler in previous.items():  # the next one is not graceful
                signal.signal(s, handler)

        for s in previous:
            signal.signal(s, request)
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


class _Replay:
    def __init__(
        self,
        env: Environment,
        app: AppContext,
        request: ReplayRequest,
        admin: TopicAdmin,
        existing: dict[str, TopicState],
        keep: RecordFilter,
        group: str,
        on_progress: ReplayProgress | None,
    ) -> None:
        self.env, self.app, self.request, self.admin = env, app, request, admin
        self.existing, self.keep, self.group = existing, keep, group
        self.on_progress = on_progress or (lambda _read, _total: None)
        self.totals = ReplayCounts()
        self.batch = _Batch()
        self.planned: list[PlannedRecord] = []
        self.created: list[str] = []
        self.throttle = (
            Throttle(request.records_per_second, request.bytes_per_second)
            if not request.dry_run
            else Throttle()
        )
        self.stop = _Stop()
        self.producer: Any = None
        self.consumer: Any = None
        self.failure: str | None = None
        self.errors = 0
        self.delivery_error: Any = None
        self.fatal_error: Any = None
        self.limit_reached = False
        self.filtering = keep.active
        #: target topic -> why it cannot take replayed records (None: it can).
        self.unfit: dict[str | None, ParkReason | None] = {}

    # -- the run ------------------------------------------------------------------------------

    def execute(self, sources: list[str]) -> ReplayReport:
        from confluent_kafka import KafkaException

        started = time.monotonic()
        ranges: dict[tuple[str, int], tuple[int, int]] = {}
        interrupted = False
        try:
            if not self.request.dry_run:
                self.producer = self._producer()
            self.consumer = self._consumer()
            ranges = self._ranges(sources)
            with self.stop.installed():
                try:
                    self._loop(ranges)
                except KafkaException as exc:  # fatal in the client: fenced, authorization
                    self._fail(exc)
                    self.errors += self.batch.records
                    self.batch = _Batch()
            interrupted = self.stop.requested
        except BaseException:
            if self.batch.open:  # a second Ctrl-C or an error: the batch must not half-land
                with contextlib.suppress(Exception):
                    self.producer.abort_transaction(self.request.timeout)
            raise
        finally:
            if self.consumer is not None:
                self.consumer.close()
            if self.producer is not None:
                with contextlib.suppress(Exception):  # a fenced producer cannot flush
                    self.producer.flush(self.request.timeout)
        to_read = sum(end - start for start, end in ranges.values())
        return ReplayReport(
            environment=self.env.name,
            bootstrap=self.env.kafka.bootstrap,
            topics=sources,
            group=self.group,
            target=self.request.to,
            parking_topic=self.request.parking_topic or f"<dlq>{PARKING_SUFFIX}",
            dry_run=self.request.dry_run,
            exactly_once=self.request.exactly_once,
            counts=self.totals,
            to_read=to_read,
            remaining=max(0, to_read - self.totals.read),
            elapsed_s=time.monotonic() - started,
            interrupted=interrupted,
            failure=self.failure,
            errors=self.errors,
            limit_reached=self.limit_reached,
            created_topics=self.created,
            planned=self.planned,
        )

    def _loop(self, ranges: dict[tuple[str, int], tuple[int, int]]) -> None:
        """Read and route until every partition reaches its end, --limit, a stop or a failure."""
        pending = dict(ranges)
        total = sum(end - start for start, end in ranges.values())
        last_progress = time.monotonic()
        while pending and not self._halted():
            messages = self.consumer.consume(num_messages=5000, timeout=0.2)
            if self._take_all(messages, pending):
                last_progress = time.monotonic()
            if self.producer is not None:
                self.producer.poll(0)
            if self._halted() or self._batch_full():
                self._commit()
            self.on_progress(self.totals.read + self.batch.records, total)
            if pending and time.monotonic() - last_progress > self.request.timeout:
                self._commit()
                left = ", ".join(f"{t}[{p}]" for t, p in sorted(pending)[:5])
                self.failure = self.failure or (
                    f"no record from {left} for {self.request.timeout:g}s"
                    f" (Kafka at {self.env.kafka.bootstrap})"
                )
        self._commit()

    def _halted(self) -> bool:
        return self.stop.requested or self.failure is not None or self.limit_reached

    def _take_all(
        self, messages: list[Any], pending: dict[tuple[str, int], tuple[int, int]]
    ) -> bool:
        """Route consumed messages until a batch, --limit or a stop ends; True if any was a
        record. The hot loop of a replay: it keeps per-record work to a few calls."""
        from confluent_kafka import KafkaError

        limit = self.request.limit
        took = False
        for message in messages:
            tp = (message.topic(), message.partition())
            window = pending.get(tp)
            if window is None:
                continue
            error = message.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    self._finish_partition(pending, tp)
                elif error.fatal():
                    raise ExternalSystemError(f"reading {tp[0]}[{tp[1]}]: {error.str()}")
                continue
            offset = message.offset()
            if offset >= window[1]:  # written after the run started: the next run's
                self._finish_partition(pending, tp)
                continue
            took = True
            self._route(message)
            self.batch.positions[tp] = offset + 1
            if offset >= window[1] - 1:
                self._finish_partition(pending, tp)
            if limit is not None and self.totals.matched + self.batch.counts.matched >= limit:
                self.limit_reached = True
            if self.limit_reached or self.stop.requested:
                return took
            # The clock is read only every 64 records unless throttled: it costs more than
            # the rest of the bookkeeping, and a throttled batch is slow anyway.
            read = self.batch.counts.read
            if read >= self.request.transaction_records or (
                (self.throttle.limited or read % 64 == 0) and self._batch_full()
            ):
                self._commit()
        return took

    def _finish_partition(
        self, pending: dict[tuple[str, int], tuple[int, int]], tp: tuple[str, int]
    ) -> None:
        from confluent_kafka import OFFSET_END, TopicPartition

        pending.pop(tp, None)
        self.consumer.incremental_unassign([TopicPartition(*tp, OFFSET_END)])

    def _batch_full(self) -> bool:
        b = self.batch
        if not b.positions:
            return False
        return (
            b.records >= self.request.transaction_records
            or time.monotonic() - b.started >= self.request.transaction_seconds
        )

    # -- one record -----------------------------------------------------------------------------

    def _route(self, message: Any) -> None:
        counts = self.batch.counts
        if not self.batch.positions:
            self.batch.started = time.monotonic()
        headers: list[tuple[str, bytes | None]] = message.headers() or []
        last = dict(headers)
        kind, stamp = message.timestamp()
        record_ms = stamp if kind != 0 and stamp >= 0 else None
        key = message.key()
        if self.filtering:
            letter = decode_headers(headers)
            when = letter.failed_at_ms if letter.failed_at_ms is not None else record_ms
            if not self.keep.keeps(letter, when, key, headers):
                counts.read += 1
                counts.skipped_by_filter += 1
                return
            origin, origin_partition = letter.origin_topic, letter.origin_partition
        else:
            origin, origin_partition = routing_fields(last)
        replays = _replay_count(last)
        source = message.topic()
        target, reason = self._destination(source, origin, replays)
        counts.read += 1
        partition: int | None = None
        if reason is not None:
            out_headers = [
                *headers,
                (PARKED_REASON, reason.value.encode()),
                (PARKED_FROM, f"{source}[{message.partition()}]@{message.offset()}".encode()),
            ]
            counts.parked[reason.value] += 1
        else:
            if target == origin and origin_partition is not None:
                partition = _existing_partition(origin_partition, self.existing[target])
            out_headers = (
                [h for h in headers if h[0] != REPLAY_COUNT] if REPLAY_COUNT in last else headers
            )
            out_headers.append((REPLAY_COUNT, str(replays + 1).encode()))
            counts.sent += 1
            counts.sent_to[target] += 1
        value = message.value()
        size = len(value or b"") + len(key or b"")
        if reason is None:
            counts.bytes_sent += size
        if self.request.dry_run:
            self._plan(message, target, partition, reason, out_headers, record_ms)
            return
        if self.throttle.limited:
            self.throttle.pass_record(size)
        self._produce(target, key, value, partition, record_ms, out_headers)

    def _unfit(self, target: str | None) -> ParkReason | None:
        if target is None:
            return ParkReason.NO_ORIGIN
        if is_dead_letter_topic(self.env, target):
            return ParkReason.ORIGIN_IS_DLQ
        if target not in self.existing:
            return ParkReason.ORIGIN_MISSING
        return None

    def _destination(
        self, source: str, origin: str | None, replays: int
    ) -> tuple[str, ParkReason | None]:
        """(topic, None) to replay into, or (parking topic, why)."""
        target = self.request.to or origin
        if replays >= self.request.max_attempts:
            reason: ParkReason | None = ParkReason.MAX_ATTEMPTS
        elif target in self.unfit:
            reason = self.unfit[target]
        else:
            reason = self.unfit[target] = self._unfit(target)
        if reason is not None or target is None:
            return self._parking_topic(source), reason or ParkReason.NO_ORIGIN
        return target, None

    def _plan(
        self,
        message: Any,
        target: str,
        partition: int | None,
        reason: ParkReason | None,
        headers: list[tuple[str, bytes | None]],
        record_ms: int | None,
    ) -> None:
        if len(self.planned) >= self.request.samples:
            return
        key, key_encoding = shown(message.key())
        shown_headers = []
        for name, raw in headers:
            text, encoding = shown(raw)
            shown_headers.append({"name": name, "value": text, "encoding": encoding})
        self.planned.append(
            PlannedRecord(
                source=message.topic() or "",
                partition=message.partition() or 0,
                offset=message.offset() or 0,
                action="park" if reason else "send",
                target=target,
                target_partition=partition,
                reason=reason.value if reason else None,
                key=key,
                key_encoding=key_encoding,
                value_bytes=len(message.value() or b""),
                timestamp_ms=record_ms,
                headers=shown_headers,
            )
        )

    def _produce(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp_ms: int | None,
        headers: list[tuple[str, bytes | None]],
    ) -> None:
        if self.request.exactly_once and not self.batch.open:
            self.producer.begin_transaction()
            self.batch.open = True
        # Transactions report failed deliveries at commit; only at-least-once needs a callback.
        extra = {} if self.request.exactly_once else {"on_delivery": self._delivered}
        while True:
            try:
                self.producer.produce(
                    topic,
                    value=value,
                    key=key,
                    partition=-1 if partition is None else partition,
                    timestamp=timestamp_ms or 0,
                    headers=headers,
                    **extra,
                )
                break
            except BufferError:  # the local queue is full: let deliveries drain it
                self.producer.poll(0.002)

    def _delivered(self, error: Any, _message: Any) -> None:
        if error is not None and self.delivery_error is None:
            self.delivery_error = error

    def _parking_topic(self, source: str) -> str:
        name = self.request.parking_topic or source + PARKING_SUFFIX
        if name in self.existing or self.request.dry_run:
            return name
        spec = self._parking_spec(name, source)
        self.admin.create([spec])
        self.existing = self.admin.topics()
        self.created.append(name)
        return name

    def _parking_spec(self, name: str, source: str) -> TopicSpec:
        """The parking topic from the topics template, else made like its DLQ: the same
        partitions, replication factor and topic-level configs (retention above all)."""
        desired = {t.name: t for t in desired_topics(self.env, self.app)}
        if name in desired:
            return desired[name]
        like = self.admin.live_topics()[source]
        configs = self.admin.configs([source])[source].explicit
        return TopicSpec(
            name=name,
            partitions=like.partitions,
            replication_factor=like.replication_factor,
            config=configs,
        )

    # -- checkpoints ----------------------------------------------------------------------------

    def _commit(self) -> None:
        """End the open batch: its records and its offsets become visible together, or neither."""
        batch = self.batch
        if not batch.positions:
            return
        if not self.request.dry_run:
            try:
                self._commit_to_kafka(batch)
            except _StopRunError:
                self.errors += batch.records
                self.batch = _Batch()
                return
        totals = self.totals
        c = batch.counts
        totals.read += c.read
        totals.sent += c.sent
        totals.bytes_sent += c.bytes_sent
        totals.skipped_by_filter += c.skipped_by_filter
        totals.parked.update(c.parked)
        totals.sent_to.update(c.sent_to)
        self.batch = _Batch()

    def _commit_to_kafka(self, batch: _Batch) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        offsets = [TopicPartition(t, p, o) for (t, p), o in batch.positions.items()]
        timeout = self.request.timeout
        try:
            if self.request.exactly_once:
                if not batch.open:
                    self.producer.begin_transaction()
                self.producer.send_offsets_to_transaction(
                    offsets, self.consumer.consumer_group_metadata(), timeout
                )
                _retry(lambda: self.producer.commit_transaction(timeout))
            else:
                self._flush_deliveries(timeout)
                self.consumer.commit(offsets=offsets, asynchronous=False)
        except KafkaException as exc:
            self._fail(exc)
            raise _StopRunError from None

    def _flush_deliveries(self, timeout: float) -> None:
        from confluent_kafka import KafkaException

        if self.producer.flush(timeout) or self.delivery_error is not None:
            raise KafkaException(self.delivery_error or "delivery timed out")

    def _on_error(self, error: Any) -> None:
        """librdkafka's error callback: keeps the first fatal error, whose code later calls
        only summarise as "Fatal error"."""
        if self.fatal_error is None and _says(error, "fatal"):
            self.fatal_error = error

    def _underlying_fatal_error(self, error: Any) -> Any:
        """The error that made the producer fatal (e.g. fenced): a call after it only says
        "Fatal error"; polling serves the error callback, or raises the real one."""
        from confluent_kafka import KafkaException

        try:
            self.producer.poll(0)
        except KafkaException as exc:
            return exc.args[0] if exc.args else error
        return self.fatal_error or error

    def _fail(self, exc: Any) -> None:
        error = exc.args[0] if exc.args else exc
        if _name(error) == "_FATAL" and self.producer is not None:
            error = self._underlying_fatal_error(error)
        text = error.str() if callable(getattr(error, "str", None)) else str(error)
        name = _name(error)
        if self.request.exactly_once and _says(error, "txn_requires_abort"):
            with contextlib.suppress(Exception):
                self.producer.abort_transaction(self.request.timeout)
        if "FENCED" in name or "PRODUCER_EPOCH" in name:
            text = f"another replay with checkpoint group {self.group} took over ({text})"
        self.failure = f"committing a batch to Kafka at {self.env.kafka.bootstrap}: {text}"

    # -- clients --------------------------------------------------------------------------------

    def _producer(self) -> Any:
        from confluent_kafka import KafkaException, Producer

        config = {
            **client_config(self.env, self.app),
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": "murmur2_random",
            "linger.ms": 5,
            "batch.size": 1_000_000,
            # A bounded local queue, like the consumer's prefetch: flat memory on any DLQ.
            "queue.buffering.max.kbytes": 16_384,
            "error_cb": self._on_error,
        }
        if self.request.exactly_once:
            config["transactional.id"] = self.group
            config["transaction.timeout.ms"] = 60_000
        producer = Producer(config)
        if self.request.exactly_once:
            try:
                producer.init_transactions(self.request.timeout)
            except KafkaException as exc:
                producer.flush(0)
                raise ExternalSystemError(
                    f"cannot start a transaction on Kafka at {self.env.kafka.bootstrap}:"
                    f" {exc.args[0].str() if exc.args else exc}",
                    hint="is the broker up, and does it allow transactions? --at-least-once"
                    " replays without them",
                ) from None
        return producer

    def _consumer(self) -> Any:
        from confluent_kafka import Consumer

        return Consumer(
            {
                **client_config(self.env, self.app),
                "group.id": self.group,
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
                # Bounded prefetch: memory stops growing once it is full, however big the DLQ.
                "queued.max.messages.kbytes": 16_384,
            }
        )

    def _ranges(self, sources: list[str]) -> dict[tuple[str, int], tuple[int, int]]:
        """Each partition's (checkpoint or log start, end offset now), when there is work."""
        from confluent_kafka import KafkaException, TopicPartition

        partitions = [(t, p) for t in sources for p in range(self.existing[t].partitions)]
        if not partitions:
            return {}
        marks = self.admin.watermarks(partitions)
        try:
            committed = self.consumer.committed(
                [TopicPartition(t, p) for t, p in partitions], timeout=self.request.timeout
            )
        except KafkaException as exc:
            raise ExternalSystemError(
                f"reading the checkpoint of group {self.group} from Kafka at"
                f" {self.env.kafka.bootstrap}: {exc.args[0].str() if exc.args else exc}"
            ) from None
        ranges: dict[tuple[str, int], tuple[int, int]] = {}
        for tp in committed:
            key = (tp.topic, tp.partition)
            mark = marks[key]
            start = tp.offset if tp.offset >= 0 else mark.log_start
            if start < mark.log_start:
                self.totals.lost_to_retention += mark.log_start - start
                start = mark.log_start
            if start < mark.log_end:
                ranges[key] = (start, mark.log_end)
        if ranges:
            self.consumer.assign([TopicPartition(t, p, s) for (t, p), (s, _) in ranges.items()])
        return ranges


class _StopRunError(Exception):
    """The run cannot go on; ``failure`` says why (the report carries it)."""


def _replay_count(last: dict[str, bytes | None]) -> int:
    """Times replayed before: the last replay-count header; absent or unreadable is 0."""
    raw = last.get(REPLAY_COUNT)
    try:
        return max(0, int(raw or b"0"))
    except ValueError:
        return 0


def _existing_partition(partition: int, topic: TopicState) -> int | None:
    """Back to the partition it came from when going back to its own topic (and that partition
    still exists), so per-key order is kept whatever partitioner the original producer used."""
    return partition if 0 <= partition < topic.partitions else None


def _name(error: Any) -> str:
    method = getattr(error, "name", None)
    return str(method()) if callable(method) else ""


def _says(error: Any, question: str) -> bool:
    """Ask a KafkaError a yes/no question (it may be a plain exception instead)."""
    method = getattr(error, question, None)
    return callable(method) and bool(method())


def _retry(action: Callable[[], None], attempts: int = 3) -> None:
    from confluent_kafka import KafkaException

    for attempt in range(attempts):
        try:
            action()
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if not _says(error, "retriable") or attempt == attempts - 1:
                raise
        else:
            return
