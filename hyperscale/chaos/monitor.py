"""Watches the selected instances while a drill runs: the fewest ready per workload and per
disruption budget, and when each replacement first showed ready (for recovery times)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from hyperscale.errors import HyperscaleError
from hyperscale.targets.base import Disruption, DisruptionBudget, Target, Victim, VictimQuery


@dataclass
class Kill:
    victim: Victim
    disruption: Disruption
    #: time.monotonic() when the target accepted the kill.
    at: float


@dataclass
class Observations:
    polls: int = 0
    failed_polls: int = 0
    min_ready: dict[str, int] = field(default_factory=dict)
    min_ready_budget: dict[str, int] = field(default_factory=dict)
    #: workload -> (monotonic time first seen ready, uid) of instances that were not there
    #: when the drill started: the replacements.
    replacements: dict[str, list[tuple[float, str]]] = field(default_factory=dict)


class ReadinessMonitor:
    """Polls ``target.victims(query)`` in a thread every ``interval`` seconds (a poll, not a
    watch: the one Target call both kinds answer; its resolution bounds what it can see)."""

    def __init__(
        self,
        target: Target,
        query: VictimQuery,
        budgets: list[DisruptionBudget],
        interval: float = 0.05,
    ) -> None:
        self.target = target
        self.query = query
        self.budgets = budgets
        self.interval = interval
        self.seen = Observations()
        self._baseline: set[str] = set()
        self._new_ready: set[str] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="chaos-monitor", daemon=True)

    def start(self, baseline: list[Victim]) -> None:
        self._baseline = {v.uid for v in baseline}
        self._observe(baseline, time.monotonic())
        self._thread.start()

    def stop(self) -> Observations:
        """Stop polling (a monitor never started, as in a drill that ended first, is fine)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        return self.seen

    def replacements(self, workload: str) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.seen.replacements.get(workload, []))

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                found = self.target.victims(self.query)
            except HyperscaleError:
                with self._lock:
                    self.seen.failed_polls += 1
                continue
            self._observe(found, time.monotonic())

    def _observe(self, found: list[Victim], now: float) -> None:
        with self._lock:
            seen = self.seen
            seen.polls += 1
            ready = [v for v in found if v.ready]
            for workload in {v.workload for v in found} | set(seen.min_ready):
                count = sum(1 for v in ready if v.workload == workload)
                seen.min_ready[workload] = min(seen.min_ready.get(workload, count), count)
            for budget in self.budgets:
                count = sum(1 for v in ready if budget.covers(v))
                previous = seen.min_ready_budget.get(budget.name, count)
                seen.min_ready_budget[budget.name] = min(previous, count)
            for victim in ready:
                if victim.uid not in self._baseline and victim.uid not in self._new_ready:
                    self._new_ready.add(victim.uid)
                    seen.replacements.setdefault(victim.workload, []).append((now, victim.uid))


def recovery_times(kills: list[Kill], monitor: ReadinessMonitor) -> dict[str, float | None]:
    """Instance name -> seconds from its kill to its replacement first seen ready (None: not
    yet); within a workload the n-th kill is matched with the n-th replacement."""
    times: dict[str, float | None] = {}
    for workload in {k.victim.workload for k in kills}:
        ordered = sorted((k for k in kills if k.victim.workload == workload), key=lambda k: k.at)
        ready = monitor.replacements(workload)
        for index, kill in enumerate(ordered):
            seen = ready[index][0] if index < len(ready) else None
            times[kill.victim.name] = None if seen is None else round(max(seen - kill.at, 0), 3)
    return times
