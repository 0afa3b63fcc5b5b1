"""Retention of ``processed_events``: the rows that make a redelivered event a no-op.

A row is needed only as long as its event can come back. An event comes back while its record
is still in the topic: a restart or rebalance re-reads from the last committed offset, and an
offset reset can go back as far as the topic keeps records. So by default a row is kept for the
longest ``retention.ms`` of the consumed topics, read from the brokers; a shorter
``CONSUMER_DEDUPE_RETENTION_S`` is honoured but logged as a warning, since a reset further back
than it would apply events twice. A topic that keeps records for ever (``retention.ms=-1``)
means the rows are kept for ever too.

Rows older than that are deleted between batches, ``CONSUMER_PRUNE_BATCH`` at a time (each in
its own short transaction, oldest first through the ``processed_at`` index), for at most
``PRUNE_BUDGET_S`` per round. A round that stopped with old rows left comes again after the next
batch; otherwise after ``CONSUMER_PRUNE_INTERVAL_S``. So the pruner keeps up with the insert
rate without ever holding the consumer for long. Only one consumer of the group prunes at a
time (a MySQL named lock, not waited for): the others skip the round.

Housekeeping never stops the consumer: a failed round is logged, counted, and tried again later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from platform_consumer.db import Database, is_connection_loss
from platform_consumer.metrics import ConsumerMetrics
from platform_consumer.settings import ConsumerSettings

log = logging.getLogger(__name__)

#: The longest a round of deletes may hold the consumer.
PRUNE_BUDGET_S = 0.5
#: One pruner per group: ``GET_LOCK(name, 0)`` returns at once when another consumer holds it.
LOCK_NAME = "platform_consumer.prune_processed_events"
DELETE_OLD = (
    "DELETE FROM processed_events WHERE processed_at < UTC_TIMESTAMP() - INTERVAL %s SECOND"
    " ORDER BY processed_at LIMIT %s"
)
MS_PER_S = 1000
DESCRIBE_TIMEOUT_S = 2.0

Clock = Callable[[], float]


class TopicRetention(Protocol):
    """``retention.ms`` of each topic, from the brokers (-1: kept for ever)."""

    def __call__(self, topics: Iterable[str]) -> dict[str, int]: ...


@dataclass(frozen=True)
class Window:
    """How long rows are kept; ``None``: for ever."""

    seconds: int | None
    source: str


def topic_retention_from_admin(config: dict[str, Any]) -> TopicRetention:
    """Reads ``retention.ms`` with a Kafka AdminClient (DescribeConfigs on the topics)."""

    def read(topics: Iterable[str]) -> dict[str, int]:
        from confluent_kafka.admin import AdminClient
        from confluent_kafka.admin._config import ConfigResource

        admin = AdminClient(config)
        resources = [ConfigResource("topic", topic) for topic in topics]
        found = {}
        # Short: this runs between batches, and a broker that cannot answer now is asked again
        # at the next round.
        futures = admin.describe_configs(resources, request_timeout=DESCRIBE_TIMEOUT_S)
        for resource, future in futures.items():
            entry = future.result(DESCRIBE_TIMEOUT_S + 1).get("retention.ms")
            if entry is not None and entry.value is not None:
                found[resource.name] = int(entry.value)
        return found

    return read


def choose_window(settings: ConsumerSettings, retention_ms: dict[str, int]) -> Window:
    """The configured window, else the longest topic retention; warns when shorter than it."""
    kept_for_ever = [topic for topic, ms in retention_ms.items() if ms < 0]
    longest_s = max((ms // MS_PER_S for ms in retention_ms.values() if ms >= 0), default=None)
    topics_s = None if kept_for_ever or longest_s is None else longest_s
    configured = settings.consumer_dedupe_retention_s
    if configured is None:
        if kept_for_ever:
            return Window(None, f"{', '.join(kept_for_ever)} keeps records for ever")
        if topics_s is None:
            return Window(None, "no topic reported its retention.ms")
        return Window(topics_s, "the consumed topics' longest retention.ms")
    if topics_s is None or configured < topics_s:
        log.warning(
            "CONSUMER_DEDUPE_RETENTION_S is shorter than the topics keep records: an offset"
            " reset further back than it would apply events twice",
            extra={"dedupe_retention_s": configured, "topic_retention_s": topics_s},
        )
    return Window(configured, "CONSUMER_DEDUPE_RETENTION_S")


class ProcessedEventsPruner:
    """Deletes ``processed_events`` rows older than the window, a bounded slice per round."""

    def __init__(
        self,
        settings: ConsumerSettings,
        database: Database,
        metrics: ConsumerMetrics,
        topic_retention: TopicRetention,
        clock: Clock = time.monotonic,
    ) -> None:
        self._settings = settings
        self._database = database
        self._metrics = metrics
        self._topic_retention = topic_retention
        self._clock = clock
        self._window: Window | None = None
        self._next_round = clock() + settings.consumer_prune_interval_s

    def maybe_prune(self) -> None:
        """Called between batches; prunes when a round is due."""
        if self._settings.consumer_prune_interval_s == 0 or self._clock() < self._next_round:
            return
        behind = False
        try:
            behind = self._round()
        except Exception as exc:
            self._metrics.prune_failures.inc()
            log.warning("pruning processed_events failed; tried again later", exc_info=exc)
            if is_connection_loss(exc):
                self._database.discard()
            else:
                self._database.rollback_quietly()
        interval = 0 if behind else self._settings.consumer_prune_interval_s
        self._next_round = self._clock() + interval

    def _round(self) -> bool:
        """One round; True when it stopped with rows older than the window left."""
        window = self._window_now()
        if window.seconds is None:
            return False
        connection = self._database.connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, 0)", (LOCK_NAME,))
            row = cursor.fetchone()
            connection.commit()
            if not row or row[0] != 1:
                return False
            try:
                return self._delete_old(connection, cursor, window.seconds)
            finally:
                cursor.execute("SELECT RELEASE_LOCK(%s)", (LOCK_NAME,))
                cursor.fetchall()
                connection.commit()

    def _delete_old(self, connection: Any, cursor: Any, window_s: int) -> bool:
        batch = self._settings.consumer_prune_batch
        deadline = self._clock() + PRUNE_BUDGET_S
        while True:
            deleted = cursor.execute(DELETE_OLD, (window_s, batch))
            connection.commit()
            self._metrics.pruned.inc(deleted)
            if deleted < batch:
                return False
            if self._clock() >= deadline:
                return True

    def _window_now(self) -> Window:
        """The window, from the brokers' topic configs on the first round that can read them."""
        if self._window is None:
            retention = self._topic_retention(self._settings.topics)
            self._window = choose_window(self._settings, retention)
            log.info(
                "processed_events retention",
                extra={"seconds": self._window.seconds, "source": self._window.source},
            )
        return self._window
