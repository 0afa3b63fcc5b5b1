"""Durations as people write them on the command line: 10s, 500ms, 15m, 1h, 2d (plain numbers
are seconds)."""

from __future__ import annotations

import re

from hyperscale.errors import UsageError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def duration_seconds(text: str, option: str) -> float:
    found = _DURATION.match(text)
    if found is None:
        raise UsageError(
            f"{option} {text!r} is not a duration", hint="write 10s, 500ms, 15m, 1h or 2d"
        )
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]
