"""`hyperscale chaos kill-consumer`: under a steady order stream through the API, kill one
consumer instance; the group's lag rises while its partitions wait, then falls back once the
replacement is ready. Measured: the replacement's recovery, the lag's peak, and how long the lag
took to be back at its level before the kill; judged against the environment's lag SLO."""

from __future__ import annotations

import time
from dataclasses import dataclass

from hyperscale.chaos.core import (
    KillPodsSettings,
    Plan,
    allowed_namespace,
    dry_run,
    guarded_drill,
    plan_kills,
)
from hyperscale.chaos.load import order_load
from hyperscale.chaos.monitor import Kill, ReadinessMonitor, recovery_times
from hyperscale.chaos.results import KillPlan
from hyperscale.chaos.steady import SteadyState, group_lag, guarded, hypothesis
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun
from hyperscale.drills.results import DrillReport
from hyperscale.errors import UsageError
from hyperscale.progress import Progress, quiet
from hyperscale.targets import for_env
from hyperscale.targets.base import VictimQuery

MIN_BEFORE_S = 0.5


@dataclass(frozen=True)
class KillConsumerSettings:
    namespace: str | None = None
    #: The consumer workload to hit; None: the target's first consumer.
    workload: str | None = None
    #: Orders per second posted to the API during the drill.
    rate: float = 20.0
    #: Seconds of orders before the kill, to know the lag's usual level.
    before_s: float = 3.0
    recovery_timeout_s: float = 120.0
    dry_run: bool = False
    yes: bool = False


def kill_consumer(
    env: Environment, app: AppContext, s: KillConsumerSettings, progress: Progress = quiet
) -> KillPlan | DrillReport:
    if s.before_s < MIN_BEFORE_S:
        raise UsageError(
            f"--before {s.before_s:g}: at least {MIN_BEFORE_S:g}s of orders, to know the lag's"
            " usual level"
        )
    target = for_env(env, app)
    namespace = allowed_namespace(env, target, KillPodsSettings(namespace=s.namespace))
    consumers = [w.name for w in target.workloads() if w.role == "consumer"]
    workload = s.workload or (consumers[0] if consumers else None)
    if workload is None or workload not in consumers:
        raise UsageError(
            f"{workload or 'no consumer'}: the consumers of {env.name} are"
            f" {', '.join(consumers) or 'none'}"
        )
    kill = KillPodsSettings(namespace, None, workload, 1, pick="oldest", dry_run=s.dry_run)
    plan = plan_kills(env, target, VictimQuery(namespace, None, workload), kill)
    if s.dry_run:
        return dry_run(env, plan, kill)
    return guarded_drill(
        env, app, plan, "kill-consumer", s.yes, lambda run: _drill(run, env, app, plan, s), progress
    )


def _lag(env: Environment, app: AppContext) -> int | None:
    lag = group_lag(env, app)
    return None if lag is None else lag.messages


def _drill(
    run: DrillRun, env: Environment, app: AppContext, plan: Plan, s: KillConsumerSettings
) -> None:
    slo = env.slo.consumer_lag_messages
    timeout = env.chaos.steady_state_timeout_s
    steady = SteadyState.of(env, app, plan.target, plan.query, {v.workload for v in plan.chosen})
    if not hypothesis(run, "before", steady, timeout):  # the lag under the SLO included
        return
    api = next(w.address for w in plan.target.workloads() if w.role == "api")
    load = order_load(env, app, api.rstrip("/"), s.rate)
    monitor = ReadinessMonitor(plan.target, plan.query, [])
    kills: list[Kill] = []
    peak, back, level = 0, None, 0
    [victim] = plan.chosen
    try:
        with guarded(run, steady):
            with run.step(f"orders at {s.rate:g}/s for {s.before_s:g}s (customer {load.customer})"):
                load.start()
                run.undo_later("stop the orders", load.stop)
                run.note("orders customer", customer=load.customer)
                usual = _samples(run, env, app, s.before_s)
                level = max([v for v in usual if v is not None], default=0)
                run.measure("lag_before_max", level)
            monitor.start(plan.target.victims(plan.query))
            run.checkpoint()  # aborted or interrupted: no kill
            with run.step(f"kill {victim.name}"):
                disruption = plan.target.kill(
                    victim, force=False, timeout_s=s.recovery_timeout_s, halt=run.halt
                )
                kills.append(Kill(victim, disruption, time.monotonic()))
                run.note(f"{disruption.instance}: {disruption.how}")
            with run.step("lag until the replacement is ready and the lag is back to its level"):
                peak, back = _recover(run, env, app, kills, monitor, level, s.recovery_timeout_s)
    finally:
        monitor.stop()
        load.stop()
        run.measure("orders_accepted", len(load.accepted))
        run.measure("orders_refused", load.refused)
    seconds = recovery_times(kills, monitor).get(victim.name)
    run.measure(f"recovery_s.{victim.name}", seconds)
    run.check(f"{victim.name} replaced by a ready instance", seconds is not None, f"{seconds}")
    run.measure("lag_peak", peak)
    run.measure("seconds_to_lag_recovered", back)
    run.check(f"lag peak under the SLO ({slo} messages)", peak <= slo, f"peak {peak}")
    run.check(
        f"lag back to its level before the kill ({level}) within {s.recovery_timeout_s:g}s",
        back is not None,
        f"in {back}s" if back is not None else "not in time",
    )
    hypothesis(run, "after", steady, timeout)


def _samples(run: DrillRun, env: Environment, app: AppContext, seconds: float) -> list[int | None]:
    found, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        found.append(_lag(env, app))
        run.sleep(0.5)
    return found


def _recover(
    run: DrillRun,
    env: Environment,
    app: AppContext,
    kills: list[Kill],
    monitor: ReadinessMonitor,
    level: int,
    timeout: float,
) -> tuple[int, float | None]:
    """The lag's peak, and the seconds from the kill until, the replacement being ready, the
    lag was back at ``level`` or below (None: not within ``timeout``)."""
    killed_at, peak = kills[0].at, 0
    while time.monotonic() - killed_at < timeout:
        lag = _lag(env, app)
        peak = max(peak, lag or 0)
        replaced = None not in recovery_times(kills, monitor).values()
        if replaced and lag is not None and lag <= level:
            return peak, round(time.monotonic() - killed_at, 2)
        run.sleep(0.5)
    return peak, None
