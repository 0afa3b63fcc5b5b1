"""One pod disrupted for a drill: evicted through the API (a PodDisruptionBudget's refusal is
waited on and retried), or with ``force`` deleted with a one-second grace period."""

from __future__ import annotations

import threading
import time
from typing import Any

from hyperscale.errors import CheckFailedError
from hyperscale.targets.base import Disruption, Victim

#: Seconds between evictions a budget refused.
RETRY_S = 0.5


def disrupt_pod(
    api: Any,
    namespace: str,
    victim: Victim,
    *,
    force: bool,
    timeout_s: float,
    halt: threading.Event,
) -> Disruption:
    """Evict until ``timeout_s`` or until ``halt`` is set (the drill was stopped)."""
    from hyperscale.clients.kube_pods import delete_pod, evict_pod

    if force:
        delete_pod(api, namespace, victim.name, grace_seconds=1)
        return Disruption(victim.workload, victim.name, "deleted (--force, grace 1s)")
    deadline = time.monotonic() + timeout_s
    refusals = 0
    while not evict_pod(api, namespace, victim.name, victim.uid):
        refusals += 1
        if time.monotonic() >= deadline:
            raise CheckFailedError(
                f"the disruption budget of {namespace}/{victim.name} refused its eviction"
                f" {refusals} time(s) over {timeout_s:g}s",
                hint="wait for the workload to be healthy again, or --force to delete",
            )
        if halt.wait(RETRY_S):
            raise CheckFailedError(
                f"the eviction of {namespace}/{victim.name} was given up after"
                f" {refusals} budget refusal(s): the drill was stopped"
            )
    how = "evicted" + (f" after {refusals} budget refusal(s)" if refusals else "")
    return Disruption(victim.workload, victim.name, how)
