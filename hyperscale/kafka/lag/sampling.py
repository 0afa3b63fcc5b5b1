"""`kafka lag --sample N --interval S`: N snapshots of the lag, judged together. Each
partition gets rates, a lag trend, a catch-up ETA and a status (``status``). Never prints."""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.kafka.lag.core import LagQuery, consumer_lag
from hyperscale.kafka.lag.results import LagReport, LagStatus, PartitionTrend, Sampling

#: Sampling needs two snapshots at least: a rate is a difference.
MIN_SAMPLES = 2


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
