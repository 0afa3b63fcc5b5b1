"""Consumer lag in messages and in seconds, per group, topic and partition. Never prints.

The order of the reads matters: committed offsets first, then the end offsets, so a group that
commits in between can only make the lag look larger, never negative; it is clamped at 0 anyway.

Time lag is the age of the record at the committed offset (the next one the group will
process), read from its timestamp with an assigned consumer that never joins the group. When
that record cannot be read, because retention deleted it or the offset is a transaction marker
or a compacted-away record, the time is interpolated on the offset -> timestamp line through the
nearest known points: the first readable record after the committed offset, the partition's
newest record (ListOffsets max_timestamp), and (log end, now).

With ``--sample N --interval S`` (``sample_lag``) the snapshot is taken N times, S seconds
apart, and each partition gets rates, a lag trend, a catch-up ETA and a status (``status``).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.kafka.client import KafkaAdmin, TimedOffset, Watermarks
from hyperscale.kafka.lag_results import (
    DeletedPartition,
    GroupLag,
    LagBreach,
    LagReport,
    LagStatus,
    PartitionLag,
    PartitionTrend,
    Sampling,
    TimeLagMethod,
)

TopicPartitionKey = tuple[str, int]

#: Sampling needs two snapshots at least: a rate is a difference.
MIN_SAMPLES = 2


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


def with_bootstrap(env: Environment, bootstrap: str | None) -> Environment:
    """The environment with ``--bootstrap`` in place of its brokers (security unchanged)."""
    if not bootstrap:
        return env
    from pydantic import ValidationError

    try:
        servers = [Endpoint.model_validate(s.strip()) for s in bootstrap.split(",") if s.strip()]
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UsageError(f"--bootstrap {bootstrap!r}: {problem}") from None
    if not servers:
        raise UsageError("--bootstrap is empty", hint="give HOST:PORT[,HOST:PORT...]")
    kafka = env.kafka.model_copy(update={"bootstrap_servers": servers})
    return env.model_copy(update={"kafka": kafka})


def consumer_lag(env: Environment, app: AppContext, query: LagQuery) -> LagReport:
    try:
        pattern = re.compile(query.group_pattern)
    except re.error as exc:
        raise UsageError(f"--group {query.group_pattern!r} is not a valid regex: {exc}") from None
    env = with_bootstrap(env, query.bootstrap)
    admin = KafkaAdmin(env, app, timeout=query.timeout)

    listed = admin.consumer_groups()
    states = {s.lower() for s in query.states}
    chosen = sorted(
        g for g, state in listed if pattern.fullmatch(g) and (not states or state.lower() in states)
    )
    if not chosen and query.group_given:
        known = ", ".join(sorted(g for g, _ in listed)[:10]) or "none"
        raise UsageError(
            f"no consumer group on {env.kafka.bootstrap} matches {query.group_pattern!r}",
            hint=f"groups there: {known}",
        )

    with ThreadPoolExecutor(max_workers=1) as pool:  # the two requests in flight together
        describing = pool.submit(admin.describe_groups, chosen)
        committed = admin.committed_offsets(chosen)  # before the end offsets: see above
        described = describing.result()
    wanted_topics = set(query.topics)
    rows: dict[str, dict[TopicPartitionKey, int | None]] = {}
    for group in chosen:
        offsets: dict[TopicPartitionKey, int | None] = {
            tp: (offset if offset >= 0 else None) for tp, offset in committed[group].items()
        }
        for tp in described[group].assigned:
            offsets.setdefault(tp, None)
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
    records = admin.first_records(app, lagging, timeout=query.timeout)
    unreadable = sorted({(t, p) for t, p, o in lagging if _read_at(records, t, p, o) is None})
    newest = admin.max_timestamps(unreadable)

    groups = []
    for group in chosen:
        description = described[group]
        measured = [
            _partition_lag(
                group, tp, offset, marks[tp], records, newest.get(tp), now, description.assigned
            )
            for tp, offset in sorted(rows[group].items())
        ]
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


def _read_at(
    records: dict[tuple[str, int, int], TimedOffset | None], t: str, p: int, o: int
) -> TimedOffset | None:
    """The record read for (t, p, o) if it sits exactly at the committed offset."""
    found = records.get((t, p, o))
    return found if found is not None and found.offset == o else None


def _partition_lag(
    group: str,
    tp: TopicPartitionKey,
    committed: int | None,
    marks: Watermarks,
    records: dict[tuple[str, int, int], TimedOffset | None],
    newest: TimedOffset | None,
    now: float,
    assigned: dict[TopicPartitionKey, str],
) -> PartitionLag:
    topic, partition = tp
    lag = None if committed is None else max(0, marks.log_end - committed)
    seconds: float | None = None
    method = TimeLagMethod.NONE
    if lag == 0:
        seconds = 0.0
    elif committed is not None:
        exact = _read_at(records, topic, partition, committed)
        if exact is not None:
            seconds, method = max(0.0, now - exact.timestamp_ms / 1000), TimeLagMethod.RECORD
        else:
            probe = (topic, partition, max(committed, marks.log_start))
            points = [r for r in (records.get(probe), newest) if r]
            estimate = interpolate_timestamp(committed, points, marks.log_end, now)
            if estimate is not None:
                seconds, method = max(0.0, now - estimate), TimeLagMethod.INTERPOLATED
    return PartitionLag(
        group=group,
        topic=topic,
        partition=partition,
        committed_offset=committed,
        log_start_offset=marks.log_start,
        log_end_offset=marks.log_end,
        lag_messages=lag,
        lag_seconds=None if seconds is None else round(seconds, 3),
        time_lag_method=method,
        client_id=assigned.get(tp),
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


# -- sampling: rates, trend, ETA and status over N snapshots ------------------------------------


@dataclass(frozen=True)
class PartitionSample:
    """One partition as one snapshot saw it; ``error`` when that snapshot could not be read."""

    at: float
    committed_offset: int | None = None
    log_end_offset: int | None = None
    lag_messages: int | None = None
    error: str | None = None


def status(samples: Sequence[PartitionSample], members: int) -> tuple[LagStatus, str]:
    """The status of one partition over a sampling window, in the spirit of Burrow's rules,
    with the reason in words. The first rule that matches decides:

    - ERR: the partition could not be read in some sample (an error from the broker).
    - REWIND: the committed offset went backwards between two samples.
    - STOP: the committed offset is unchanged across all samples, the lag at the last sample
      is > 0, and the group has no members (``members`` == 0): commits stopped.
    - STALL: the committed offset is unchanged across all samples, the lag at the last sample
      is > 0, and either the log end moved or the lag was > 0 throughout, while the group has
      members: the consumer is alive but stuck.
    - OK: no lag at the last sample.
    - WARN: the lag grew at every step across the window (strictly increasing) while the
      committed offset still moved: the consumer is falling behind.
    - OK: otherwise, the lag is not growing.

    Samples without a committed offset (the group never committed) are left out; with fewer
    than two left there is nothing to judge: OK. A group's status is the worst of its
    partitions': ERR > REWIND > STOP > STALL > WARN > OK.
    """
    failed = [s.error for s in samples if s.error is not None]
    if failed:
        return LagStatus.ERR, f"a sample could not be read: {failed[0]}"
    read = [s for s in samples if s.committed_offset is not None and s.lag_messages is not None]
    if len(read) < MIN_SAMPLES:
        return LagStatus.OK, "fewer than 2 samples with a committed offset: nothing to judge"
    offsets = [s.committed_offset or 0 for s in read]
    lags = [s.lag_messages or 0 for s in read]
    ends = [s.log_end_offset for s in read]
    return _judge_offsets(offsets, lags, ends, members)


def _judge_offsets(
    offsets: list[int], lags: list[int], ends: list[int | None], members: int
) -> tuple[LagStatus, str]:
    """``status`` once the samples are read: the rules from REWIND on, in order."""
    for i, (before, after) in enumerate(itertools.pairwise(offsets), start=1):
        if after < before:
            return LagStatus.REWIND, (
                f"committed offset went back from {before} to {after}"
                f" between samples {i} and {i + 1}"
            )
    stuck = len(set(offsets)) == 1 and lags[-1] > 0
    if stuck and members == 0:
        return LagStatus.STOP, (
            f"committed offset stayed at {offsets[0]} with lag {lags[-1]}"
            " and the group has no members: commits stopped"
        )
    if stuck and (ends[-1] != ends[0] or all(lag > 0 for lag in lags)):
        return LagStatus.STALL, (
            f"committed offset stayed at {offsets[0]} with lag {lags[-1]}"
            f" while {members} member(s) are present: the consumer is stuck"
        )
    if lags[-1] == 0:
        return LagStatus.OK, "no lag at the last sample"
    if offsets[-1] != offsets[0] and all(b > a for a, b in itertools.pairwise(lags)):
        steps = " -> ".join(str(lag) for lag in lags)
        return LagStatus.WARN, f"lag grew at every step ({steps}) while the offset moved"
    return LagStatus.OK, "lag not growing"


def partition_trend(samples: Sequence[PartitionSample], members: int) -> PartitionTrend:
    """Rates (messages/s) between the first and last readable samples, the lag trend, the
    catch-up ETA (lag / (consumption - production) when that is positive), and the status."""
    verdict, reason = status(samples, members)
    read = [s for s in samples if s.error is None and s.log_end_offset is not None]
    consumption = production = trend = eta = None
    if len(read) >= MIN_SAMPLES and read[-1].at > read[0].at:
        first, last = read[0], read[-1]
        elapsed = last.at - first.at
        production = ((last.log_end_offset or 0) - (first.log_end_offset or 0)) / elapsed
        if first.committed_offset is not None and last.committed_offset is not None:
            consumption = (last.committed_offset - first.committed_offset) / elapsed
        if first.lag_messages is not None and last.lag_messages is not None:
            trend = (last.lag_messages - first.lag_messages) / elapsed
        if consumption is not None and last.lag_messages is not None:
            net = consumption - production
            eta = last.lag_messages / net if net > 0 else None
    return PartitionTrend(
        verdict,
        reason,
        len(samples),
        consumption_rate=_round(consumption),
        production_rate=_round(production),
        lag_trend=_round(trend),
        eta_seconds=_round(eta),
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


Between = Callable[[int], None]


def sample_lag(
    env: Environment,
    app: AppContext,
    query: LagQuery,
    samples: int,
    interval: float,
    between: Between | None = None,
) -> LagReport:
    """``samples`` snapshots of ``consumer_lag``, ``interval`` seconds apart, judged together.

    ``between(i)`` runs after snapshot ``i`` (0-based) and before the next one, instead of
    sleeping ``interval`` seconds: tests drive the broker from it. A snapshot after the first
    that fails with a broker error is kept as an error (its partitions are ERR); the first one
    failing is the command's error.
    """
    if samples < MIN_SAMPLES:
        raise UsageError(f"--sample {samples}: sampling needs at least {MIN_SAMPLES} snapshots")
    wanted = {s.upper() for s in query.statuses}
    unknown = sorted(wanted - {s.value for s in LagStatus})
    if unknown:
        known = ", ".join(s.value for s in LagStatus)
        raise UsageError(f"--status {unknown[0]!r} is not a status", hint=f"one of {known}")
    wait = between if between is not None else (lambda _i: time.sleep(interval))
    taken: list[LagReport | str] = []
    for i in range(samples):
        if i:
            wait(i - 1)
        try:
            taken.append(consumer_lag(env, app, query))
        except ExternalSystemError as exc:
            if i == 0:
                raise
            taken.append(exc.message)
    return judge(taken, interval, wanted)


def judge(taken: Sequence[LagReport | str], interval: float, statuses: set[str]) -> LagReport:
    """One report from the snapshots: the last readable one, each partition with its trend."""
    reports = [r for r in taken if isinstance(r, LagReport)]
    base = reports[-1]
    series: dict[tuple[str, str, int], list[PartitionSample]] = {}
    keys = {(p.group, p.topic, p.partition) for r in reports for p in r.partitions}
    for snapshot in taken:
        if isinstance(snapshot, str):
            for key in keys:
                series.setdefault(key, []).append(PartitionSample(0.0, error=snapshot))
            continue
        for p in snapshot.partitions:
            series.setdefault((p.group, p.topic, p.partition), []).append(
                PartitionSample(
                    snapshot.measured_at, p.committed_offset, p.log_end_offset, p.lag_messages
                )
            )
    groups = []
    for group in base.groups:
        partitions = [
            dataclasses.replace(
                p,
                trend=partition_trend(series[(p.group, p.topic, p.partition)], group.members),
            )
            for p in group.partitions
        ]
        worst = max(
            partitions,
            key=lambda p: p.trend.status.severity if p.trend else 0,
            default=None,
        )
        if statuses:
            partitions = [p for p in partitions if p.trend and p.trend.status.value in statuses]
            if not partitions:
                continue
        if worst is None or worst.trend is None:
            verdict, reason = LagStatus.OK, "no partitions"
        else:
            verdict = worst.trend.status
            reason = f"{worst.topic}[{worst.partition}]: {worst.trend.status_reason}"
        groups.append(
            dataclasses.replace(group, partitions=partitions, status=verdict, status_reason=reason)
        )
    kept = {(p.group, p.topic, p.partition) for g in groups for p in g.partitions}
    return dataclasses.replace(
        base,
        groups=groups,
        breaches=[b for b in base.breaches if (b.group, b.topic, b.partition) in kept],
        sampling=Sampling(
            samples=len(taken),
            interval_seconds=interval,
            window_seconds=base.measured_at - reports[0].measured_at,
            errors=[e for e in taken if isinstance(e, str)],
        ),
    )
