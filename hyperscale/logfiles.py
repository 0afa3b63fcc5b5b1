"""Reading the end of a log file, for errors that name a failed process with its last words."""

from __future__ import annotations

import os
from pathlib import Path


def log_tail(path: Path, lines: int = 10) -> list[str]:
    """The last non-blank lines of a log file (reads at most its last 16 KiB)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16_384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if line.strip()][-lines:]
