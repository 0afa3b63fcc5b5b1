"""The steady-state hypothesis every chaos drill judges, before, during and after the harm:

- before and after (each waited for up to ``chaos.steady_state_timeout_s``): every targeted
  workload has all its instances ready, the API's readiness check passes, and the platform's
  consumer group lags under the SLO (``slo.consumer_lag_messages`` and
  ``slo.consumer_lag_seconds``);
- during (a guard of the drill engine, every 0.5 s; two failed probes in a row abort the
  drill): every workload the drill does not target stays ready, the API stays ready unless the
  API is what the drill takes down, and the lag stays under the SLO.

The API and the lag are part of it only where the platform is deployed on the target (a drill
in a namespace of other workloads judges those workloads alone).
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from hyperscale.clients.http import http_status
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun
from hyperscale.errors import HyperscaleError, summary
from hyperscale.kafka.lag.core import LagQuery, consumer_lag
from hyperscale.targets.base import Target, VictimQuery

HTTP_OK = 200


@dataclass(frozen=True)
class LagFigures:
    messages: int
    #: The oldest unconsumed record's age, None when the group is caught up.
    seconds: float | None


def group_lag(env: Environment, app: AppContext) -> LagFigures | None:
    """The platform consumer group's lag (all its partitions); None when Kafka cannot say."""
    group = env.kafka.consumer_group
    query = LagQuery(group_pattern=f"^{re.escape(group)}$", group_given=True, timeout=5.0)
    try:
        report = consumer_lag(env, app, query)
    except HyperscaleError:
        return None
    seconds = [g.lag_seconds for g in report.groups if g.lag_seconds is not None]
    return LagFigures(sum(g.lag_messages for g in report.groups), max(seconds, default=None))


def lag_under_slo(env: Environment, app: AppContext) -> tuple[bool, str]:
    slo = env.slo
    lag = group_lag(env, app)
    if lag is None:
        return False, f"lag of {env.kafka.consumer_group} unknown: Kafka did not answer"
    ok = lag.messages <= slo.consumer_lag_messages and (
        lag.seconds is None or lag.seconds <= slo.consumer_lag_seconds
    )
    age = "caught up" if lag.seconds is None else f"{lag.seconds:.1f}s behind"
    return ok, (
        f"lag {lag.messages} messages ({age}; SLO {slo.consumer_lag_messages} messages,"
        f" {slo.consumer_lag_seconds:g}s)"
    )


@dataclass
class SteadyState:
    """The hypothesis of one drill: ``targeted`` are the workloads it takes instances of."""

    env: Environment
    app: AppContext
    target: Target
    query: VictimQuery
    targeted: set[str]
    #: The platform (API, consumers) is deployed on the target: its API and lag are judged.
    platform: bool = False
    api_url: str = ""
    #: Workloads seen fully ready at the start that the drill does not target.
    others: set[str] = field(default_factory=set)
    #: The drill takes down the API itself: its readiness is not judged while it runs.
    api_targeted: bool = False

    @classmethod
    def of(
        cls,
        env: Environment,
        app: AppContext,
        target: Target,
        query: VictimQuery,
        targeted: set[str],
    ) -> SteadyState:
        platform = target.status().deployed
        roles = {w.name: w.role for w in target.workloads()} if platform else {}
        api = next((w for w in target.workloads() if w.role == "api"), None) if platform else None
        everything = target.victims(VictimQuery(namespace=query.namespace))
        ready = {v.workload for v in everything} - {v.workload for v in everything if not v.ready}
        return cls(
            env,
            app,
            target,
            query,
            targeted,
            platform=platform,
            api_url=api.health_url if api else "",
            others=ready - targeted,
            api_targeted=any(roles.get(w) == "api" for w in targeted),
        )

    def _api(self) -> list[str]:
        if not self.api_url:
            return []
        if http_status(self.api_url, timeout=2.0) == HTTP_OK:
            return []
        return ["the API's readiness check fails"]

    def _lag(self) -> tuple[list[str], str]:
        if not self.platform:
            return [], ""
        ok, detail = lag_under_slo(self.env, self.app)
        return ([] if ok else [detail]), detail

    def holds(self) -> tuple[bool, str]:
        """Before and after: every targeted workload ready, the API ready, lag under the SLO."""
        found = [v for v in self.target.victims(self.query) if v.workload in self.targeted]
        missing = sorted(self.targeted - {v.workload for v in found})
        not_ready = sorted(v.name for v in found if not v.ready)
        problems = [f"no instance of {w}" for w in missing] + [f"{n} not ready" for n in not_ready]
        problems += self._api()
        lag_problems, lag = self._lag()
        problems += lag_problems
        return not problems, "; ".join(problems) or ", ".join(
            filter(
                None,
                [
                    f"{len(found)} instance(s) ready",
                    "API ready" if self.api_url else "",
                    lag,
                ],
            )
        )

    def during(self) -> tuple[bool, str]:
        """While the drill runs: what it does not target stays ready, the API (unless it is
        the target) answers ready, the lag stays under the SLO."""
        problems: list[str] = []
        if self.others:
            found = self.target.victims(VictimQuery(namespace=self.query.namespace))
            present = {v.workload for v in found}
            problems += [f"{w} has no instance" for w in sorted(self.others - present)]
            problems += [
                f"{v.name} ({v.workload}) not ready"
                for v in found
                if v.workload in self.others and not v.ready
            ]
        if not self.api_targeted:
            problems += self._api()
        lag_problems, lag = self._lag()
        problems += lag_problems
        return not problems, "; ".join(problems) or ", ".join(
            filter(None, [f"{len(self.others)} other workload(s) ready", lag])
        )

    def describe(self) -> str:
        parts = ["every targeted workload ready"]
        if self.api_url:
            parts.append("the API ready")
        if self.platform:
            parts.append("consumer lag under the SLO")
        return ", ".join(parts)


def hypothesis(run: DrillRun, name: str, steady: SteadyState, timeout: float) -> bool:
    """Wait up to ``timeout`` for the steady state; a check named ``steady state NAME``."""
    last = [""]

    def holds() -> bool:
        try:
            ok, last[0] = steady.holds()
        except HyperscaleError as exc:
            ok, last[0] = False, summary(exc.message, exc.hint)
        return ok

    with run.step(f"steady state {name}: {steady.describe()}"):
        waited = run.wait_until(holds, timeout, interval=0.5)
        run.check(f"steady state {name}", waited is not None, last[0])
    return waited is not None


def guarded(run: DrillRun, steady: SteadyState) -> AbstractContextManager[None]:
    """The guard that aborts the drill when the steady state breaks while it runs."""
    return run.guard("steady state during", steady.during, interval=0.5, tolerance=2)
