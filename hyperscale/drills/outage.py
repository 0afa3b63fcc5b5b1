"""One of this machine's backing services taken down for a drill and brought back, the one way
every drill does it (`dr drill broker-loss`, `chaos broker-restart`, `chaos db-failover`): the
restart is registered as an undo action at once, so the service runs again whatever happens
(a failed check, an abort, Ctrl-C)."""

from __future__ import annotations

import time

from hyperscale.drills.engine import DrillRun
from hyperscale.local.core import ensure_running
from hyperscale.local.services import BackingService


def take_down(run: DrillRun, service: BackingService, *, crash: bool) -> float:
    """Stop ``service`` (SIGKILL when ``crash``, else SIGTERM and a clean shutdown); the
    time.monotonic() at which it was asked to go."""
    at = time.monotonic()
    if crash:
        service.process.kill()
    else:
        service.process.stop()
    run.undo_later(f"make sure {service.name} runs", lambda: ensure_running(service))
    return at


def bring_back(run: DrillRun, service: BackingService) -> tuple[float, float]:
    """Start ``service`` again and wait until it answers (a check says whether it did); the
    time.monotonic() of the start and of its first answer."""
    started = time.monotonic()
    outcome = ensure_running(service)
    answered = time.monotonic()
    run.check(f"{service.name} started again", outcome.state.healthy, outcome.detail)
    return started, answered
