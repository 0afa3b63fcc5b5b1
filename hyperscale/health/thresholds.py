"""UP / DEGRADED / DOWN from consecutive results: an endpoint goes DOWN after
``failure_threshold`` failed attempts in a row and UP again after ``success_threshold`` good
ones. The attempts before a threshold are the retries; the counts carry over between the
rounds of ``--watch``, so one bad answer never flips a healthy endpoint by itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class State(StrEnum):
    UP = "up"
    #: Answering, but with a warning (certificate close to expiry, slow) or flapping.
    DEGRADED = "degraded"
    DOWN = "down"


@dataclass
class Tracker:
    failure_threshold: int
    success_threshold: int
    #: The state the last round settled on; None before the first.
    state: State | None = None
    failures: int = 0
    successes: int = 0

    def record(self, ok: bool) -> bool:
        """Count one attempt; True when it reached its threshold (the round may stop)."""
        if ok:
            self.successes, self.failures = self.successes + 1, 0
            return self.successes >= self.success_threshold
        self.failures, self.successes = self.failures + 1, 0
        return self.failures >= self.failure_threshold

    def settle(self, ok: bool, warned: bool, reached: bool) -> tuple[State, str]:
        """The state after a round whose last attempt was ``ok`` (with ``warned`` conditions);
        ``reached`` says whether that attempt reached its threshold. The second value explains
        a state the last attempt alone does not show."""
        if reached:
            self.state = State.DOWN if not ok else State.DEGRADED if warned else State.UP
            return self.state, ""
        if self.state is not None:  # no threshold reached this round: the last state holds
            return self.state, "no threshold reached this round; state kept"
        self.state = State.DEGRADED
        return self.state, "flapping: no threshold reached"
