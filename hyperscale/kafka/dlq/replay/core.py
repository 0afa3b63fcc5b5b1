"""`hyperscale kafka dlq replay`: dead letters back to their topics, exactly once. Never prints.

How it stays exactly once
    A consumer group (the *checkpoint group*, checkpoint.py) holds how far each DLQ partition
    has been replayed. Records are sent by a transactional producer, and the consumed offsets
    are committed to the checkpoint group inside the same transaction. Either a batch's
    records and its offsets are both committed, or neither is. The transactional id is the
    group's name, so a run started after a crash fences the dead one and aborts its open
    transaction before reading the checkpoint: a replay killed at any point (Ctrl-C, SIGKILL,
    a lost broker) resumes where the last commit left it, with nothing lost and nothing
    doubled, for readers with ``isolation.level=read_committed``.

What a run covers
    Each DLQ partition from the checkpoint (else its log start) to the end offset captured when
    the run starts, so dead letters written during the run, such as replayed records failing
    again, wait for the next run. The checkpoint group's name is derived from the DLQ topics,
    ``--to`` and the filters, so repeating the same command resumes, and a different selection
    starts from the beginning instead of skipping records a narrower filter passed over.

Where each record goes: routing.py. Ctrl-C and SIGTERM: signals.py. Rate limits: throttle.py.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

from hyperscale.clients.kafka.config import with_bootstrap
from hyperscale.clients.kafka.errors import KafkaCallError, KafkaFailure
from hyperscale.clients.kafka.models import PartitionEnd, Record, TopicPartitionKey, TopicState
from hyperscale.clients.kafka.producer import KafkaProducer
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.clients.kafka.topic_admin import TopicAdmin
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.kafka.dlq.core import choose_dlq_topics
from hyperscale.kafka.dlq.filter import build_filter
from hyperscale.kafka.dlq.replay import checkpoint
from hyperscale.kafka.dlq.replay.checkpoint import Batch, Window, checkpoint_group
from hyperscale.kafka.dlq.replay.request import ReplayRequest
from hyperscale.kafka.dlq.replay.results import ReplayCounts, ReplayReport
from hyperscale.kafka.dlq.replay.routing import PARKING_SUFFIX, Router, is_dead_letter_topic
from hyperscale.kafka.dlq.replay.signals import GracefulStop
from hyperscale.kafka.dlq.replay.throttle import Throttle
from hyperscale.safety import confirm_protected

__all__ = ["ReplayRequest", "checkpoint_group", "replay_dead_letters"]

#: Called with (records read so far, records to read in this run).
ReplayProgress = Callable[[int, int], None]
#: Opens the progress display; it is opened once the replay starts reading, after any
#: confirmation, so a prompt never runs under a progress bar.
ProgressDisplay = Callable[[], AbstractContextManager[ReplayProgress]]

#: Records asked of the reader at once, and how long to wait for them.
FETCH_RECORDS = 5000
FETCH_SECONDS = 0.2
#: Of the prefetched records, the reader keeps this much: memory stops growing once it is full.
PREFETCH_KBYTES = 16_384


def _no_display() -> AbstractContextManager[ReplayProgress]:
    return contextlib.nullcontext(lambda _read, _total: None)


def replay_dead_letters(
    env: Environment,
    app: AppContext,
    request: ReplayRequest,
    display: ProgressDisplay = _no_display,
) -> ReplayReport:
    if not request.dry_run:
        confirm_protected(app, env, "replay dead letters into its live topics", yes=request.yes)
    env = with_bootstrap(env, request.bootstrap)
    keep = build_filter(request.filters, time.time())
    admin = TopicAdmin(env, app, timeout=request.timeout)
    existing = admin.topics()
    sources = choose_dlq_topics(env, existing, request.topics, "replay")
    _check_targets(env, request, sources, existing)
    group = request.group or checkpoint_group(sources, request.to, request.filters)
    router = Router(env, app, request, admin, existing, keep)
    return _Replay(env, app, request, admin, router, group).execute(sources, display)


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


class _Replay:
    def __init__(
        self,
        env: Environment,
        app: AppContext,
        request: ReplayRequest,
        admin: TopicAdmin,
        router: Router,
        group: str,
    ) -> None:
        self.env, self.app, self.request, self.admin = env, app, request, admin
        self.router, self.group = router, group
        self.totals = ReplayCounts()
        self.batch = Batch()
        self.throttle = (
            Throttle(request.records_per_second, request.bytes_per_second)
            if not request.dry_run
            else Throttle()
        )
        self.stop = GracefulStop()
        self.producer: KafkaProducer | None = None
        self.reader: AssignedReader | None = None
        self.failure: str | None = None
        self.errors = 0
        self.limit_reached = False

    # -- the run ------------------------------------------------------------------------------

    def execute(self, sources: list[str], display: ProgressDisplay) -> ReplayReport:
        started = time.monotonic()
        windows: dict[TopicPartitionKey, Window] = {}
        interrupted = False
        try:
            if not self.request.dry_run:
                self.producer = self._producer()
            self.reader = reader = AssignedReader(
                self.env,
                self.app,
                self.group,
                read_committed=True,
                prefetch_kbytes=PREFETCH_KBYTES,
            )
            existing = self.router.existing
            partitions = [(t, p) for t in sources for p in range(existing[t].partitions)]
            windows, lost = checkpoint.windows(self.admin, reader, partitions, self.request.timeout)
            self.totals.lost_to_retention += lost
            if windows:
                reader.assign({tp: start for tp, (start, _) in windows.items()})
            with self.stop.installed(), display() as on_progress:
                try:
                    self._loop(reader, windows, on_progress)
                except KafkaCallError as exc:  # fatal in the client: fenced, authorization
                    self._fail(exc.failure)
                    self.errors += self.batch.records
                    self.batch = Batch()
            interrupted = self.stop.requested
        except BaseException:
            if self.batch.open and self.producer is not None:
                # A second Ctrl-C or an error: the batch must not half-land.
                with contextlib.suppress(Exception):
                    self.producer.abort()
            raise
        finally:
            if self.reader is not None:
                self.reader.close()
            if self.producer is not None:
                with contextlib.suppress(Exception):  # a fenced producer cannot flush
                    self.producer.flush()
        return self._report(sources, windows, started, interrupted)

    def _report(
        self,
        sources: list[str],
        windows: dict[TopicPartitionKey, Window],
        started: float,
        interrupted: bool,
    ) -> ReplayReport:
        to_read = sum(end - start for start, end in windows.values())
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
            created_topics=self.router.created,
            planned=self.router.planned,
        )

    def _loop(
        self,
        reader: AssignedReader,
        windows: dict[TopicPartitionKey, Window],
        on_progress: ReplayProgress,
    ) -> None:
        """Read and route until every partition reaches its end, --limit, a stop or a failure."""
        pending = dict(windows)
        total = sum(end - start for start, end in windows.values())
        last_progress = time.monotonic()
        while pending and not self._halted():
            if self._take_all(reader, reader.fetch(FETCH_RECORDS, FETCH_SECONDS), pending):
                last_progress = time.monotonic()
            if self.producer is not None:
                self.producer.poll(0)
            if self._halted() or self._batch_full():
                self._commit()
            on_progress(self.totals.read + self.batch.records, total)
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
        self,
        reader: AssignedReader,
        items: Iterator[Record | PartitionEnd],
        pending: dict[TopicPartitionKey, Window],
    ) -> bool:
        """Route what was read until a batch, --limit or a stop ends; True if any was a record.
        The hot loop of a replay: it keeps per-record work to a few calls."""
        limit = self.request.limit
        took = False
        for item in items:
            tp = (item.topic, item.partition)
            window = pending.get(tp)
            if window is None:
                continue
            if isinstance(item, PartitionEnd):
                _finish(reader, pending, tp)
                continue
            offset = item.offset
            if offset >= window[1]:  # written after the run started: the next run's
                _finish(reader, pending, tp)
                continue
            took = True
            self._route(item)
            self.batch.positions[tp] = offset + 1
            if offset >= window[1] - 1:
                _finish(reader, pending, tp)
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

    def _batch_full(self) -> bool:
        return self.batch.full(self.request.transaction_records, self.request.transaction_seconds)

    def _route(self, record: Record) -> None:
        batch = self.batch
        if not batch.positions:
            batch.started = time.monotonic()
        outgoing = self.router.route(record, batch.counts)
        if outgoing is None or self.producer is None:
            return
        topic, partition, headers, size = outgoing
        if self.throttle.limited:
            self.throttle.pass_record(size)
        if self.request.exactly_once and not batch.open:
            self.producer.begin()
            batch.open = True
        self.producer.produce(
            topic, record.key, record.value, partition, record.timestamp_ms, headers
        )

    # -- checkpoints ----------------------------------------------------------------------------

    def _commit(self) -> None:
        """End the open batch: its records and its offsets become visible together, or neither."""
        batch = self.batch
        if not batch.positions:
            return
        if self.producer is not None and self.reader is not None:  # not a dry run
            try:
                checkpoint.write(
                    batch, self.producer, self.reader, exactly_once=self.request.exactly_once
                )
            except KafkaCallError as exc:
                self._fail(exc.failure)
                self.errors += batch.records
                self.batch = Batch()
                return
        checkpoint.add_counts(self.totals, batch.counts)
        self.batch = Batch()

    def _fail(self, failure: KafkaFailure) -> None:
        """Stop the run with the reason the report gives; abort the transaction if it must be."""
        if self.request.exactly_once and failure.txn_requires_abort and self.producer is not None:
            with contextlib.suppress(Exception):
                self.producer.abort()
        text = failure.text
        if failure.fenced:
            text = f"another replay with checkpoint group {self.group} took over ({text})"
        self.failure = f"committing a batch to Kafka at {self.env.kafka.bootstrap}: {text}"

    def _producer(self) -> KafkaProducer:
        """Transactional with the group's name as its id (exactly once), else idempotent."""
        try:
            return KafkaProducer(
                self.env,
                self.app,
                transactional_id=self.group if self.request.exactly_once else None,
                timeout=self.request.timeout,
            )
        except KafkaCallError as exc:
            raise ExternalSystemError(
                f"cannot start a transaction on Kafka at {self.env.kafka.bootstrap}:"
                f" {exc.failure.text}",
                hint="is the broker up, and does it allow transactions? --at-least-once"
                " replays without them",
            ) from None


def _finish(
    reader: AssignedReader, pending: dict[TopicPartitionKey, Window], tp: TopicPartitionKey
) -> None:
    """The partition is read to its captured end: stop fetching it."""
    pending.pop(tp, None)
    reader.release(tp)
