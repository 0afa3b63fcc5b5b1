"""Ctrl-C and SIGTERM during a replay: the first asks it to stop after the current record (its
batch commits), the second is not graceful (the open transaction is aborted)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


class GracefulStop:
    def __init__(self) -> None:
        self.requested = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Catch SIGINT and SIGTERM while inside; only the main thread may install handlers,
        so elsewhere (a test's worker thread) nothing is caught."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}

        def request(signum: int, frame: Any) -> None:
            self.requested = True
            for s, handler in previous.items():  # the next one is not graceful
                signal.signal(s, handler)

        for s in previous:
            signal.signal(s, request)
        try:
            yield
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)
