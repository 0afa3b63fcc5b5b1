"""Rate limits for commands that write to a live cluster: records/s and bytes/s at once.

A token bucket per limit, with a burst of a tenth of a second so the rate holds over short
windows too. A record bigger than the burst still goes: the bucket goes into debt and the
next record waits it off, so any record size works with any byte rate.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

BURST_SECONDS = 0.1
#: A wait is slept in slices this long. A signal is handled by Python in the main thread only,
#: between two bytecodes; the kernel may deliver Ctrl-C to another thread (a pool's), which
#: does not cut the main thread's sleep short. Waking this often, the main thread acts on it
#: within a slice rather than at the end of a wait that can be minutes long at a low --rate.
WAKE_SECONDS = 0.2


@dataclass
class TokenBucket:
    rate: float
    clock: Callable[[], float] = time.monotonic
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.capacity
        self.updated = self.clock()

    @property
    def capacity(self) -> float:
        return max(1.0, self.rate * BURST_SECONDS)

    def take(self, amount: float) -> float:
        """Take ``amount`` tokens; return the seconds to wait before the caller may go on."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= amount
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


@dataclass
class Throttle:
    """Both limits; None means unlimited. ``pass_record`` sleeps as long as the tighter one
    demands."""

    records_per_second: float | None = None
    bytes_per_second: float | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _buckets: list[tuple[TokenBucket, bool]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.records_per_second:
            self._buckets.append((TokenBucket(self.records_per_second, self.clock), False))
        if self.bytes_per_second:
            self._buckets.append((TokenBucket(self.bytes_per_second, self.clock), True))

    @property
    def limited(self) -> bool:
        return bool(self._buckets)

    def pass_record(self, size: int) -> None:
        wait = max(
            (bucket.take(size if by_bytes else 1) for bucket, by_bytes in self._buckets),
            default=0.0,
        )
        end = self.clock() + wait
        while (left := end - self.clock()) > 0:
            self.sleep(min(left, WAKE_SECONDS))


_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3}


def parse_byte_rate(text: str) -> float:
    """ "500k", "1.5MiB", "2m" or a plain number of bytes per second (a trailing "b" or "/s"
    is allowed). Raises ValueError with a readable message."""
    cleaned = text.strip().lower().removesuffix("/s").removesuffix("b").strip()
    number = cleaned.rstrip("kmgi")
    unit = cleaned[len(number) :]
    if unit not in _UNITS:
        raise ValueError(f"unknown unit in {text!r}: use k, M, G, KiB, MiB or GiB")
    try:
        value = float(number) * _UNITS[unit]
    except ValueError:
        raise ValueError(f"{text!r} is not a byte rate such as 500k or 2MiB") from None
    if value <= 0:
        raise ValueError(f"{text!r} must be more than zero")
    return value
