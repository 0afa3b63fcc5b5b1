"""`hyperscale chaos kill-pods`: take instances of the platform down on purpose, over the Target
interface (supervised programs locally, pods on Kubernetes), and judge a steady-state hypothesis
before, during (a guard that aborts the drill: no further kill) and after (hyperscale.chaos.steady).
Returns a KillPlan (dry run) or the drill engine's DrillReport; never prints.

Recovery is measured per killed instance: from the moment the target accepted the kill (the
SIGKILL sent, the eviction granted) to its replacement first seen ready by a monitor polling
every 0.05 s. The same monitor keeps the fewest ready instances seen, per workload and per
disruption budget, compared with the budget's desiredHealthy (minAvailable).
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from hyperscale.chaos.monitor import Kill, ReadinessMonitor, recovery_times
from hyperscale.chaos.results import BudgetHeadroom, KillPlan, PlannedKill
from hyperscale.chaos.steady import SteadyState, guarded, hypothesis
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun, run_drill
from hyperscale.drills.results import DrillReport
from hyperscale.errors import UsageError
from hyperscale.progress import Progress, quiet
from hyperscale.safety import confirm_protected
from hyperscale.targets import for_env
from hyperscale.targets.base import DisruptionBudget, Target, Victim, VictimQuery

PICKS = ("random", "oldest", "newest")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh]?)$")


def parse_duration(text: str, option: str) -> float:
    """``90``, ``90s``, ``2m``, ``1h`` -> seconds; a UsageError naming the option otherwise."""
    match = _DURATION.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise UsageError(f"{option}: {text!r} is not a duration such as 90s or 2m")
    return float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


@dataclass(frozen=True)
class KillPodsSettings:
    namespace: str | None = None
    selector: str | None = None
    workload: str | None = None
    count: int | None = None
    percent: float | None = None
    pick: str = "random"
    force: bool = False
    dry_run: bool = False
    yes: bool = False
    recovery_timeout_s: float = 120.0


@dataclass(frozen=True)
class Plan:
    target: Target
    query: VictimQuery
    pool: list[Victim]
    chosen: list[Victim]
    budgets: list[DisruptionBudget]


def kill_pods(
    env: Environment, app: AppContext, s: KillPodsSettings, progress: Progress = quiet
) -> KillPlan | DrillReport:
    target = for_env(env, app)
    namespace = allowed_namespace(env, target, s)
    if s.count is not None and s.percent is not None:
        raise UsageError("--count and --percent: give one of them")
    if s.pick not in PICKS:
        raise UsageError(f"--pick {s.pick}: one of {', '.join(PICKS)}")
    query = VictimQuery(namespace, s.selector, s.workload)
    plan = plan_kills(env, target, query, s)
    if s.dry_run:
        return dry_run(env, plan, s)
    return guarded_drill(
        env, app, plan, "kill-pods", s.yes, lambda run: _drill(run, env, app, plan, s), progress
    )


def guarded_drill(
    env: Environment,
    app: AppContext,
    plan: Plan,
    drill: str,
    yes: bool,
    body: Callable[[DrillRun], None],
    progress: Progress,
) -> DrillReport:
    action = f"kill {len(plan.chosen)} instance(s) ({_names(plan.chosen)})"
    return interlocked_drill(env, app, plan.target, drill, action, yes, body, progress)


def interlocked_drill(
    env: Environment,
    app: AppContext,
    target: Target,
    drill: str,
    action: str,
    yes: bool,
    body: Callable[[DrillRun], None],
    progress: Progress,
) -> DrillReport:
    """Refuse while a deploy holds the lock, confirm on a protected environment, then run the
    drill holding the deploy lock itself: a deploy started meanwhile is refused."""
    holder = target.deploy_holder()
    if holder is not None:
        raise UsageError(
            f"a deploy holds the lock of {env.name}: {holder}",
            hint="run the drill after the deploy; `hyperscale status` shows it",
        )
    confirm_protected(app, env, action, yes=yes)
    with target.locked(f"chaos {drill}: {action}", f"chaos {drill}"):
        return run_drill(app, drill, env.name, body, progress)


def require_chaos_enabled(env: Environment) -> None:
    """Refused before anything is contacted: chaos off for the environment."""
    if not env.chaos.enabled:
        raise UsageError(
            f"chaos drills are not enabled for {env.name}",
            hint=f"set chaos.enabled: true in environments/{env.name}.yaml",
        )


def allowed_namespace(env: Environment, target: Target, s: KillPodsSettings) -> str | None:
    """Refused before anything is contacted: chaos off for the environment, or a namespace
    outside its allow-list."""
    require_chaos_enabled(env)
    namespace = target.drill_namespace(s.namespace)
    if namespace is not None and namespace not in env.chaos.allowed_namespaces:
        allowed = ", ".join(env.chaos.allowed_namespaces) or "none"
        raise UsageError(
            f"namespace {namespace} is not in chaos.allowed_namespaces of {env.name} ({allowed})",
            hint=f"add it to chaos.allowed_namespaces in environments/{env.name}.yaml",
        )
    return namespace


def plan_kills(env: Environment, target: Target, query: VictimQuery, s: KillPodsSettings) -> Plan:
    pool = target.victims(query)
    what = ", ".join(
        f"{k} {v}"
        for k, v in (("-n", query.namespace), ("-l", query.selector), ("-w", query.workload))
        if v
    )
    if not pool:
        raise UsageError(f"nothing running on {env.name} matches {what or 'the selection'}")
    if env.chaos.opt_in_label:
        key, _, value = env.chaos.opt_in_label.partition("=")
        pool = [v for v in pool if v.labels.get(key) == value]
        if not pool:
            raise UsageError(
                f"nothing {what or 'selected'} on {env.name} carries the opt-in label"
                f" {env.chaos.opt_in_label} (chaos.opt_in_label)",
                hint="label the workload's pods to let drills take them down",
            )
    if s.percent is not None:
        wanted = max(1, math.ceil(len(pool) * s.percent / 100))
    else:
        wanted = s.count or 1
    limit = env.chaos.max_pods_per_drill
    if wanted > limit:
        raise UsageError(
            f"{wanted} instance(s) asked for; chaos.max_pods_per_drill of {env.name} is {limit}",
            hint="a smaller --count or --percent, or raise the limit in the environment file",
        )
    if wanted > len(pool):
        raise UsageError(
            f"{wanted} instance(s) asked for; {what or 'the selection'} has {len(pool)}"
        )
    if s.pick == "oldest":
        chosen = pool[:wanted]
    elif s.pick == "newest":
        chosen = pool[-wanted:]
    else:
        chosen = random.sample(pool, wanted)
    budgets = [b for b in target.disruption_budgets(query.namespace) if any(map(b.covers, pool))]
    return Plan(target, query, pool, chosen, budgets)


def _names(victims: list[Victim]) -> str:
    return ", ".join(v.name for v in victims)


def dry_run(env: Environment, plan: Plan, s: KillPodsSettings) -> KillPlan:
    now = time.time()
    kills = [
        PlannedKill(
            v.workload,
            v.name,
            v.namespace,
            v.ready,
            None if v.started_at is None else round(now - v.started_at, 1),
        )
        for v in plan.chosen
    ]
    budgets = []
    for b in plan.budgets:
        planned = sum(1 for v in plan.chosen if b.covers(v))
        over = planned - max(b.headroom, 0)
        impact = (
            "fits within the headroom"
            if over <= 0
            else f"{over} eviction(s) wait for replacements to be ready"
            + (" (--force ignores the budget)" if s.force else "")
        )
        budgets.append(
            BudgetHeadroom(
                b.name,
                b.headroom,
                b.current_healthy,
                b.desired_healthy,
                b.allowed_disruptions,
                planned,
                impact,
            )
        )
    how = "delete (--force)" if s.force else "evict" if plan.budgets else "kill"
    return KillPlan(env.name, plan.query.namespace, how, len(plan.pool), kills, budgets)


def _drill(
    run: DrillRun, env: Environment, app: AppContext, plan: Plan, s: KillPodsSettings
) -> None:
    run.note(
        "targets",
        victims=[{"workload": v.workload, "name": v.name, "uid": v.uid} for v in plan.chosen],
        budgets=[b.name for b in plan.budgets],
    )
    timeout = env.chaos.steady_state_timeout_s
    steady = SteadyState.of(env, app, plan.target, plan.query, {v.workload for v in plan.chosen})
    if not hypothesis(run, "before", steady, timeout):
        return
    monitor = ReadinessMonitor(plan.target, plan.query, plan.budgets)
    monitor.start(plan.target.victims(plan.query))
    kills: list[Kill] = []
    try:
        with guarded(run, steady):
            for victim in plan.chosen:
                run.checkpoint()  # aborted or interrupted: no further kill
                with run.step(f"kill {victim.name} ({victim.workload})"):
                    disruption = plan.target.kill(
                        victim, force=s.force, timeout_s=s.recovery_timeout_s, halt=run.halt
                    )
                    kills.append(Kill(victim, disruption, _now()))
                    run.note(f"{disruption.instance}: {disruption.how}")
            with run.step(f"recovery: each replacement ready within {s.recovery_timeout_s:g}s"):
                run.wait_until(
                    lambda: None not in recovery_times(kills, monitor).values(),
                    s.recovery_timeout_s,
                    interval=0.2,
                )
    finally:
        # Also when the drill was aborted or interrupted: what was killed is judged.
        seen = monitor.stop()
        recovered = recovery_times(kills, monitor)
        _judge(run, plan, kills, recovered, seen.min_ready, seen.min_ready_budget)
        run.measure("monitor_polls", seen.polls)
    hypothesis(run, "after", steady, timeout)


def _now() -> float:
    return time.monotonic()


def _judge(
    run: DrillRun,
    plan: Plan,
    kills: list[Kill],
    recovered: dict[str, float | None],
    min_ready: dict[str, int],
    min_ready_budget: dict[str, int],
) -> None:
    for kill in kills:
        seconds = recovered.get(kill.victim.name)
        run.measure(f"recovery_s.{kill.victim.name}", seconds)
        run.check(
            f"{kill.victim.name} replaced by a ready instance",
            seconds is not None,
            f"in {seconds:.2f}s" if seconds is not None else "no ready replacement in time",
        )
    for workload in sorted({k.victim.workload for k in kills}):
        times = [recovered.get(k.victim.name) for k in kills if k.victim.workload == workload]
        known = [t for t in times if t is not None]
        run.measure(f"recovery_max_s.{workload}", max(known) if known else None)
        run.measure(f"min_ready.{workload}", min_ready.get(workload))
    for budget in plan.budgets:
        fewest = min_ready_budget.get(budget.name)
        run.measure(f"min_ready.pdb.{budget.name}", fewest)
        if _forced(kills):
            continue
        run.check(
            f"PDB {budget.name}: never fewer ready than desiredHealthy {budget.desired_healthy}",
            fewest is not None and fewest >= budget.desired_healthy,
            f"fewest ready seen {fewest}",
        )


def _forced(kills: list[Kill]) -> bool:
    """Deleted pods (--force) go past budgets on purpose: their floor is reported, not judged."""
    return any(k.disruption.how.startswith("deleted") for k in kills)
