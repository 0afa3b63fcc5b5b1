"""How core functions report long steps without knowing whether anybody watches."""

from __future__ import annotations

from collections.abc import Callable

#: Called with a short description of the step now running.
Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """The default: report nothing (piped output, CI, tests)."""
