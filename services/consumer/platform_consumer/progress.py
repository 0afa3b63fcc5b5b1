"""The progress watchdog: a consumer that holds records it does not read is ended.

The chaos drill "broker-restart" (issue 20) left a consumer assigned all its partitions and
polling, with records waiting, that read nothing for minutes: librdkafka had timed its group
session out while Kafka was down (SESSTMOUT), handed it the same partitions back when Kafka
returned, and never fetched them again, with no error through ``error_cb`` or the message
stream. It was alive by every other sign (it polled, so the heartbeat was fresh) and only a
fresh process, resuming from the committed offsets, got the records moving.

So the loop asks, whenever a poll brings nothing, its own view of the partitions: is there a
record beyond the position (the high watermark, queried from the partition leader)? A
consumer with records ahead that has read nothing for ``CONSUMER_STALL_TIMEOUT_S`` is stuck:
/healthz turns 503 with the reason and the loop raises ``ConsumerStalledError``, so the process
exits non-zero and its supervisor (supervisord, Kubernetes) starts a fresh one. Offsets are
committed only after MySQL's COMMIT, so nothing is lost or applied twice.

Never flagged: a consumer with nothing ahead (caught up, however long it idles), one whose
partitions cannot be asked (the broker is away: a restart cannot help), and one waiting on
MySQL (that wait happens inside a batch, which counts as progress when it ends).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from platform_consumer.health import Heartbeat
from platform_consumer.metrics import ConsumerMetrics

log = logging.getLogger(__name__)

#: The longest one watermark or committed-offset query may block the loop; a broker that does
#: not answer within it counts as unreachable (no verdict), not as a stall.
QUERY_TIMEOUT_S = 2.0
#: How often an idle consumer asks about its partitions: often enough to notice a stall within
#: a fraction of the timeout, rarely enough to cost nothing (one small request per partition).
LONGEST_CHECK_INTERVAL_S = 5.0


class ConsumerStalledError(Exception):
    """Records were waiting on assigned partitions and none was read for the stall timeout."""


@dataclass(frozen=True)
class PartitionBacklog:
    """Records beyond where this consumer stands on one partition, from its own view."""

    topic: str
    partition: int
    position: int
    end: int

    @property
    def ahead(self) -> int:
        return max(0, self.end - self.position)

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}] at {self.position} of {self.end}"


def check_interval(timeout_s: float) -> float:
    return max(0.5, min(LONGEST_CHECK_INTERVAL_S, timeout_s / 4))


class ProgressWatchdog:
    """Told by the loop when records came (``progressed``); asked when none came (``check``)."""

    def __init__(
        self,
        consumer: Any,
        timeout_s: float,
        metrics: ConsumerMetrics,
        heartbeat: Heartbeat,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer = consumer
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.heartbeat = heartbeat
        self._clock = clock
        self._interval = check_interval(timeout_s)
        self._last_check = clock()
        self._behind_since: float | None = None
        self._assignment: frozenset[tuple[str, int]] = frozenset()

    @property
    def enabled(self) -> bool:
        return self.timeout_s > 0

    def progressed(self) -> None:
        """Records were read (or a batch of them was finished): whatever was ahead moved."""
        self._behind_since = None
        self.metrics.stalled_seconds.set(0)

    def check(self) -> None:
        """After a poll that brought nothing. Raises ConsumerStalledError once stuck."""
        now = self._clock()
        if not self.enabled or now - self._last_check < self._interval:
            return
        self._last_check = now
        assignment = list(self.consumer.assignment())
        names = frozenset((tp.topic, tp.partition) for tp in assignment)
        if names != self._assignment:
            # New partitions are given the time to start fetching from scratch.
            self._assignment = names
            self.progressed()
            return
        if not assignment:
            return
        backlog = self._backlog(assignment)
        if backlog is None:
            return  # the brokers did not answer: no verdict either way
        behind = [b for b in backlog if b.ahead > 0]
        if not behind:
            self.progressed()  # caught up: idle is fine, for ever
            return
        if self._behind_since is None:
            self._behind_since = now
        stalled_for = now - self._behind_since
        self.metrics.stalled_seconds.set(stalled_for)
        if stalled_for >= self.timeout_s:
            self._declare(behind, stalled_for)

    def _declare(self, behind: Sequence[PartitionBacklog], stalled_for: float) -> None:
        records = sum(b.ahead for b in behind)
        reason = (
            f"{records} record(s) ahead on {len(behind)} assigned partition(s) and none read"
            f" for {stalled_for:.0f} s (CONSUMER_STALL_TIMEOUT_S={self.timeout_s:g})"
        )
        self.metrics.stalls.inc()
        self.heartbeat.fail(reason)
        log.error(
            "no progress with records waiting: exiting so that a fresh consumer resumes from"
            " the committed offsets",
            extra={
                "reason": reason,
                "partitions": [str(b) for b in behind],
                "records_ahead": records,
                "stalled_s": round(stalled_for, 1),
            },
        )
        raise ConsumerStalledError(reason)

    def _backlog(self, assignment: list[Any]) -> list[PartitionBacklog] | None:
        """Position and end of each assigned partition, or None if a broker did not answer."""
        from confluent_kafka import KafkaException

        try:
            starts = self._starts(assignment)
            ends = [
                self.consumer.get_watermark_offsets(tp, timeout=QUERY_TIMEOUT_S, cached=False)
                for tp in assignment
            ]
        except KafkaException as exc:
            log.debug("progress check skipped: %s", exc)
            return None
        if any(end is None for end in ends):
            return None
        return [
            PartitionBacklog(tp.topic, tp.partition, start, high)
            for tp, start, (_low, high) in zip(assignment, starts, ends, strict=True)
        ]

    def _starts(self, assignment: list[Any]) -> list[int]:
        """Where reading goes on: the position; before the first fetch, the committed offset;
        with none committed, the log start (``auto.offset.reset=earliest``)."""
        from confluent_kafka import KafkaException

        positions = self.consumer.position(assignment)
        # A negative offset is librdkafka's OFFSET_INVALID: nothing fetched since the assignment.
        missing = [tp for tp in positions if tp.offset < 0]
        committed = {}
        if missing:
            for tp in self.consumer.committed(missing, timeout=QUERY_TIMEOUT_S):
                if tp.error is not None:  # unknown is no verdict, not "from the log start"
                    raise KafkaException(tp.error)
                committed[(tp.topic, tp.partition)] = tp.offset
        starts = []
        for tp in positions:
            start = tp.offset
            if start < 0:
                start = committed.get((tp.topic, tp.partition), -1)
            if start < 0:
                low, _high = self.consumer.get_watermark_offsets(
                    tp, timeout=QUERY_TIMEOUT_S, cached=False
                )
                start = low
            starts.append(start)
        return starts
