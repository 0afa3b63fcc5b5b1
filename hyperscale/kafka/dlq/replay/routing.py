"""Where each dead letter goes, and the loop guard. Every record read is counted in exactly one
of these:

- skipped: it does not match the filters (its offset still moves past it);
- parked in ``<dlq>.parking`` (or ``--parking-topic``), with a reason header, when it has
  been replayed ``--max-attempts`` times already, has no original topic and no ``--to``,
  its original topic is a dead-letter or parking topic, or no longer exists;
- sent to ``--to`` or its original topic, with its key, value, headers and timestamp,
  ``hyperscale.dlq.replay-count`` set to one more than before, and to its original
  partition when it goes back to its original topic (else the Java client's murmur2
  partitioner, so keys land where Java producers put them).

A parking topic that does not exist is created from the topics template, else like its DLQ.
"""

from __future__ import annotations

from hyperscale.clients.kafka.models import Headers, NewTopicSpec, Record, TopicState
from hyperscale.clients.kafka.topic_admin import TopicAdmin
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.kafka.dlq.filter import RecordFilter
from hyperscale.kafka.dlq.headers import REPLAY_COUNT, decode_headers, routing_fields, shown
from hyperscale.kafka.dlq.replay.request import ReplayRequest
from hyperscale.kafka.dlq.replay.results import ParkReason, PlannedRecord, ReplayCounts
from hyperscale.kafka.topics.template import desired_topics

PARKING_SUFFIX = ".parking"
PARKED_REASON = "hyperscale.dlq.parked-reason"
PARKED_FROM = "hyperscale.dlq.parked-from"

#: (topic, partition or None for the partitioner, headers, bytes of key and value)
Outgoing = tuple[str, int | None, Headers, int]


def is_dead_letter_topic(env: Environment, topic: str) -> bool:
    return topic.endswith((env.kafka.topics.dead_letter_suffix, PARKING_SUFFIX))


class Router:
    def __init__(
        self,
        env: Environment,
        app: AppContext,
        request: ReplayRequest,
        admin: TopicAdmin,
        existing: dict[str, TopicState],
        keep: RecordFilter,
    ) -> None:
        self.env, self.app, self.request, self.admin = env, app, request, admin
        self.existing, self.keep = existing, keep
        self.filtering = keep.active
        #: target topic -> why it cannot take replayed records (None: it can).
        self.unfit: dict[str | None, ParkReason | None] = {}
        self.created: list[str] = []
        #: A dry run's first ``--samples`` records, with where each would go.
        self.planned: list[PlannedRecord] = []

    def route(self, record: Record, counts: ReplayCounts) -> Outgoing | None:
        """Count the record, and say where to send it: None when it is skipped, or in a dry
        run (then it is planned instead). The hot path of a replay: a few calls a record."""
        headers = record.headers
        last = dict(headers)
        if self.filtering:
            letter = decode_headers(headers)
            when = letter.failed_at_ms if letter.failed_at_ms is not None else record.timestamp_ms
            if not self.keep.keeps(letter, when, record.key, headers):
                counts.read += 1
                counts.skipped_by_filter += 1
                return None
            origin, origin_partition = letter.origin_topic, letter.origin_partition
        else:
            origin, origin_partition = routing_fields(last)
        replays = replay_count(last)
        source = record.topic
        target, reason = self._destination(source, origin, replays)
        counts.read += 1
        partition: int | None = None
        if reason is not None:
            out_headers = [
                *headers,
                (PARKED_REASON, reason.value.encode()),
                (PARKED_FROM, f"{source}[{record.partition}]@{record.offset}".encode()),
            ]
            counts.parked[reason.value] += 1
        else:
            if target == origin and origin_partition is not None:
                partition = existing_partition(origin_partition, self.existing[target])
            # The record's own list is reused when it has no replay count: no copy per record.
            out_headers = (
                [h for h in headers if h[0] != REPLAY_COUNT] if REPLAY_COUNT in last else headers
            )
            out_headers.append((REPLAY_COUNT, str(replays + 1).encode()))
            counts.sent += 1
            counts.sent_to[target] += 1
        size = len(record.value or b"") + len(record.key or b"")
        if reason is None:
            counts.bytes_sent += size
        if self.request.dry_run:
            self._plan(record, target, partition, reason, out_headers)
            return None
        return target, partition, out_headers, size

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
        record: Record,
        target: str,
        partition: int | None,
        reason: ParkReason | None,
        headers: Headers,
    ) -> None:
        if len(self.planned) >= self.request.samples:
            return
        key, key_encoding = shown(record.key)
        shown_headers = []
        for name, raw in headers:
            text, encoding = shown(raw)
            shown_headers.append({"name": name, "value": text, "encoding": encoding})
        self.planned.append(
            PlannedRecord(
                source=record.topic,
                partition=record.partition,
                offset=record.offset,
                action="park" if reason else "send",
                target=target,
                target_partition=partition,
                reason=reason.value if reason else None,
                key=key,
                key_encoding=key_encoding,
                value_bytes=len(record.value or b""),
                timestamp_ms=record.timestamp_ms,
                headers=shown_headers,
            )
        )

    def _parking_topic(self, source: str) -> str:
        name = self.request.parking_topic or source + PARKING_SUFFIX
        # Checked against what this run created too: right after a create, the broker's
        # metadata may not list the topic yet, and a second create would be counted twice.
        if name in self.existing or name in self.created or self.request.dry_run:
            return name
        self.admin.create([self._parking_spec(name, source)])
        self.existing = self.admin.topics()
        self.created.append(name)
        return name

    def _parking_spec(self, name: str, source: str) -> NewTopicSpec:
        """The parking topic from the topics template, else made like its DLQ: the same
        partitions, replication factor and topic-level configs (retention above all)."""
        desired = {t.name: t for t in desired_topics(self.env, self.app)}
        if name in desired:
            return desired[name].new_topic()
        like = self.admin.live_topics()[source]
        configs = self.admin.configs([source])[source].explicit
        return NewTopicSpec(
            name=name,
            partitions=like.partitions,
            replication_factor=like.replication_factor,
            config=configs,
        )


def replay_count(last: dict[str, bytes | None]) -> int:
    """Times replayed before: the last replay-count header; absent or unreadable is 0."""
    raw = last.get(REPLAY_COUNT)
    try:
        return max(0, int(raw or b"0"))
    except ValueError:
        return 0


def existing_partition(partition: int, topic: TopicState) -> int | None:
    """Back to the partition it came from when going back to its own topic (and that partition
    still exists), so per-key order is kept whatever partitioner the original producer used."""
    return partition if 0 <= partition < topic.partitions else None
