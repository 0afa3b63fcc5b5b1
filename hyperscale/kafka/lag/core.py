"""Consumer lag in messages and in seconds, per group, topic and partition. Never prints.

The order of the reads matters: committed offsets first, then the end offsets, so a group that
commits in between can only make the lag look larger, never negative; it is clamped at 0 anyway.

Time lag is the age of the record at the committed offset (the next one the group will
process), read from its timestamp with an assigned consumer that never joins the group. When
nothing but transaction markers lie between the committed offset and the log end, the group is
caught up (lag 0; the markers are counted apart). When that record cannot be read otherwise,
because retention deleted it or the offset is a compacted-away record, the time is interpolated
on the offset -> timestamp line through the nearest known points: the first readable record
after the committed offset, the partition's newest record (ListOffsets max_timestamp), and
(log end, now).

With ``--sample N --interval S`` the snapshot is taken N times (hyperscale.kafka.lag.sampling).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.config import with_bootstrap
from hyperscale.clients.kafka.models import TimedOffset, TopicPartitionKey, Watermarks
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.kafka.lag.results import (
    DeletedPartition,
    GroupLag,
    LagBreach,
    LagReport,
    PartitionLag,
    TimeLagMethod,
)


@dataclass(frozen=True)
class LagQuery:
    """What to measure and the thresholds to hold it to (None: the environment's SLOs)."""

    group_pattern: str = ".*"
    group_given: bool = False
    topics: Sequence[str] = ()
    states: Sequence[str] = ()
    max_lag_messages: int | None = None
    max_lag_seconds: float | None = None
    bootstrap: str | None = None
    timeout: float = 10.0
    #: With sampling only: keep the partitions whose status is one of these (OK, WARN...).
    statuses: Sequence[str] = ()
    #: The group's auto.offset.reset (the broker does not know it): where a partition with no
    #: committed offset would start, so the lag it would have.
    offset_reset: str = "latest"
    #: Count that lag in the partition's, the group's and the thresholds' figures.
    count_uncommitted: bool = False


def consumer_lag(env: Environment, app: AppContext, query: LagQuery) -> LagReport:
    if query.offset_reset not in ("earliest", "latest"):
        raise UsageError(f"--offset-reset {query.offset_reset}: use earliest or latest")
    env = with_bootstrap(env, query.bootstrap)
    admin = KafkaAdmin(env, app, timeout=query.timeout)
    chosen = _chosen_groups(env, admin, query)

    with ThreadPoolExecutor(max_workers=2) as pool:  # the three requests in flight together
        describing = pool.submit(admin.describe_groups, chosen)
        sizing = pool.submit(admin.topics)
        committed = admin.committed_offsets(chosen)  # before the end offsets: see above
        described = describing.result()
        sizes = sizing.result()
    wanted_topics = set(query.topics)
    rows: dict[str, dict[TopicPartitionKey, int | None]] = {}
    for group in chosen:
        offsets: dict[TopicPartitionKey, int | None] = {
            tp: (offset if offset >= 0 else None) for tp, offset in committed[group].items()
        }
        for tp in described[group].assigned:
            offsets.setdefault(tp, None)
        # Every partition of a topic the group consumes: one it never committed is reported.
        for t in {t for t, _ in offsets}:
            for p in range(sizes[t].partitions if t in sizes else 0):
                offsets.setdefault((t, p), None)
        rows[group] = {
            tp: o for tp, o in offsets.items() if not wanted_topics or tp[0] in wanted_topics
        }
    partitions = sorted({tp for offsets in rows.values() for tp in offsets})
    marks = admin.watermarks(partitions, skip_unknown=True)
    now = time.time()
    # A topic (or partition) deleted since the group committed on it or was assigned it: the
    # broker drops such offsets soon after the deletion, but a read in between sees them.
    # Reported, not measured, never a failure.
    gone = {
        group: [
            DeletedPartition(t, p, offset)
            for (t, p), offset in sorted(offsets.items())
            if (t, p) not in marks
        ]
        for group, offsets in rows.items()
    }
    rows = {g: {tp: o for tp, o in offsets.items() if tp in marks} for g, offsets in rows.items()}

    # Read from log start when retention took the committed record: never ask out of range.
    lagging = {
        (*tp, max(offset, marks[tp].log_start))
        for offsets in rows.values()
        for tp, offset in offsets.items()
        if offset is not None and offset < marks[tp].log_end
    }
    records = admin.first_records(lagging, timeout=query.timeout)
    # The probe read from the committed offset to the log end and found no record there: only
    # transaction markers lie in between (per offset: groups on one partition differ).
    markers_only = {w for w in lagging if w in records and records[w] is None}
    unreadable = sorted({(t, p) for t, p, o in lagging if _read_at(records, t, p, o) is None})
    newest = admin.max_timestamps(unreadable)

    groups = []
    for group in chosen:
        description = described[group]
        measured = []
        for tp, offset in sorted(rows[group].items()):
            mark, assigned = marks[tp], description.assigned
            if offset is None:
                row = _uncommitted(group, tp, mark, assigned, query)
            elif (*tp, offset) in markers_only:
                row = _caught_up_at_markers(group, tp, offset, mark, assigned)
            else:
                row = _partition_lag(
                    group, tp, offset, mark, records, newest.get(tp), now, assigned
                )
            measured.append(row)
        groups.append(
            GroupLag(
                group, description.state, description.members, measured, topic_deleted=gone[group]
            )
        )
    max_messages = (
        query.max_lag_messages
        if query.max_lag_messages is not None
        else env.slo.consumer_lag_messages
    )
    max_seconds = (
        query.max_lag_seconds if query.max_lag_seconds is not None else env.slo.consumer_lag_seconds
    )
    return LagReport(
        environment=env.name,
        bootstrap=env.kafka.bootstrap,
        measured_at=now,
        max_lag_messages=max_messages,
        max_lag_seconds=max_seconds,
        groups=groups,
        breaches=breaches([p for g in groups for p in g.partitions], max_messages, max_seconds),
    )


def _chosen_groups(env: Environment, admin: KafkaAdmin, query: LagQuery) -> list[str]:
    """The groups --group and --state pick; none when --group was given is a usage error."""
    try:
        pattern = re.compile(query.group_pattern)
    except re.error as exc:
        raise UsageError(f"--group {query.group_pattern!r} is not a valid regex: {exc}") from None
    listed = admin.consumer_groups()
    states = {s.lower() for s in query.states}
    chosen = sorted(
        g for g, state in listed if pattern.fullmatch(g) and (not states or state.lower() in states)
    )
    if not chosen and query.group_given:
        # With --state, say so: the group may well exist, in another state.
        in_state = f" in state {' or '.join(query.states)}" if query.states else ""
        known = ", ".join(sorted(g for g, _ in listed)[:10]) or "none"
        raise UsageError(
            f"no consumer group on {env.kafka.bootstrap} matches {query.group_pattern!r}"
            + in_state,
            hint=f"groups there: {known}",
        )
    return chosen


def _read_at(
    records: dict[tuple[str, int, int], TimedOffset | None], t: str, p: int, o: int
) -> TimedOffset | None:
    """The record read for (t, p, o) if it sits exactly at the committed offset."""
    found = records.get((t, p, o))
    return found if found is not None and found.offset == o else None


def _partition_lag(
    group: str,
    tp: TopicPartitionKey,
    committed: int,
    marks: Watermarks,
    records: dict[tuple[str, int, int], TimedOffset | None],
    newest: TimedOffset | None,
    now: float,
    assigned: dict[TopicPartitionKey, str],
) -> PartitionLag:
    topic, partition = tp
    lag = max(0, marks.log_end - committed)
    seconds: float | None = None
    method = TimeLagMethod.NONE
    if lag == 0:
        seconds = 0.0
    else:
        exact = _read_at(records, topic, partition, committed)
        if exact is not None:
            seconds, method = max(0.0, now - exact.timestamp_ms / 1000), TimeLagMethod.RECORD
        else:
            probe = (topic, partition, max(committed, marks.log_start))
            points = [r for r in (records.get(probe), newest) if r]
            estimate = interpolate_timestamp(committed, points, marks.log_end, now)
            if estimate is not None:
                seconds, method = max(0.0, now - estimate), TimeLagMethod.INTERPOLATED
    return _row(
        group,
        tp,
        marks,
        assigned,
        committed_offset=committed,
        lag_messages=lag,
        lag_seconds=None if seconds is None else round(seconds, 3),
        time_lag_method=method,
    )


def _uncommitted(
    group: str,
    tp: TopicPartitionKey,
    marks: Watermarks,
    assigned: dict[TopicPartitionKey, str],
    query: LagQuery,
) -> PartitionLag:
    """A partition the group has no committed offset for (never committed, or assigned but
    not committed yet): where it would start under ``auto.offset.reset``, and the lag that
    gives, counted only when asked."""
    if_reset = marks.log_end - marks.log_start if query.offset_reset == "earliest" else 0
    return _row(
        group,
        tp,
        marks,
        assigned,
        committed_offset=None,
        lag_messages=if_reset if query.count_uncommitted else None,
        lag_seconds=0.0 if query.count_uncommitted and if_reset == 0 else None,
        time_lag_method=TimeLagMethod.NONE,
        lag_if_reset=if_reset,
    )


def _caught_up_at_markers(
    group: str,
    tp: TopicPartitionKey,
    committed: int,
    marks: Watermarks,
    assigned: dict[TopicPartitionKey, str],
) -> PartitionLag:
    """A partition whose committed offset is followed by transaction markers only: the group
    read everything there is to read (lag 0 messages, 0 s); the markers are counted apart."""
    return _row(
        group,
        tp,
        marks,
        assigned,
        committed_offset=committed,
        lag_messages=0,
        lag_seconds=0.0,
        time_lag_method=TimeLagMethod.NONE,
        transaction_markers=marks.log_end - committed,
    )


def _row(
    group: str,
    tp: TopicPartitionKey,
    marks: Watermarks,
    assigned: dict[TopicPartitionKey, str],
    **measured: Any,
) -> PartitionLag:
    """A partition's row: what every row has (where it is, its log's bounds, its member), and
    what was measured of it."""
    topic, partition = tp
    return PartitionLag(
        group=group,
        topic=topic,
        partition=partition,
        log_start_offset=marks.log_start,
        log_end_offset=marks.log_end,
        client_id=assigned.get(tp),
        **measured,
    )


def interpolate_timestamp(
    offset: int, known: Sequence[TimedOffset], log_end: int, now: float
) -> float | None:
    """The unix time at which ``offset`` was (or would have been) written, estimated on the
    piecewise-linear offset -> time line through the ``known`` records and (log end, now).

    Below the first point (retention loss) the first segment's slope is extended backwards,
    never beyond the first point's time; with a single known record its time is used, a lower
    bound on the age. None when no record is known.
    """
    points = sorted({(k.offset, k.timestamp_ms / 1000) for k in known})
    if not points:
        return None
    if points[-1][0] < log_end:
        points.append((log_end, max(now, points[-1][1])))
    if len(points) == 1:
        return points[0][1]
    for (o1, t1), (o2, t2) in itertools.pairwise(points):
        if o1 <= offset <= o2:
            return t1 if o2 == o1 else t1 + (t2 - t1) * (offset - o1) / (o2 - o1)
    (o1, t1), (o2, t2) = points[0], points[1]
    if offset < o1:
        slope = (t2 - t1) / (o2 - o1) if o2 != o1 else 0.0
        return min(t1, t1 - slope * (o1 - offset))
    return points[-1][1]


def breaches(
    partitions: Sequence[PartitionLag], max_messages: int, max_seconds: float
) -> list[LagBreach]:
    found = []
    for p in partitions:
        if p.lag_messages is not None and p.lag_messages > max_messages:
            found.append(
                LagBreach(p.group, p.topic, p.partition, "messages", p.lag_messages, max_messages)
            )
        if p.lag_seconds is not None and p.lag_seconds > max_seconds:
            found.append(
                LagBreach(p.group, p.topic, p.partition, "seconds", p.lag_seconds, max_seconds)
            )
    return found
