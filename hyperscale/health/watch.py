"""`hyperscale health --watch`: a round every ``--interval`` seconds, the thresholds' counts
carried from one round to the next, until Ctrl-C (exit 0) or ``--count`` rounds (exit: the
last round's, as without --watch)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.health.core import HealthChecker
    from hyperscale.health.results import HealthReport


@dataclass(frozen=True)
class WatchResult:
    """What is left when the watch stops; every round was shown as it came."""

    rounds: int
    last: HealthReport | None
    stopped_by_user: bool

    @property
    def exit_code(self) -> ExitCode:
        if self.stopped_by_user or self.last is None:
            return ExitCode.OK
        return self.last.exit_code

    def to_data(self) -> Any:
        return {"rounds": self.rounds, "stopped_by_user": self.stopped_by_user}

    def render(self, console: Console) -> None:
        """Nothing: each round was shown as it came."""


def watch(
    checker: HealthChecker,
    show: Callable[[HealthReport], None],
    interval: float,
    count: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchResult:
    rounds = 0
    last: HealthReport | None = None
    try:
        while count is None or rounds < count:
            if rounds:
                sleep(interval)
            last = checker.run_round()
            show(last)
            rounds += 1
    except KeyboardInterrupt:
        return WatchResult(rounds, last, stopped_by_user=True)
    return WatchResult(rounds, last, stopped_by_user=False)
