"""Ctrl-C and SIGTERM as requests a long command answers at a safe point, and Ctrl-C noted by
the error boundary so an interrupt that surfaces as another error is still reported as one."""

from __future__ import annotations

import contextlib
import queue
import signal
import threading
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def stop_requests(also: threading.Event | None = None) -> Iterator[threading.Event]:
    """While inside, Ctrl-C (or SIGTERM) sets the event instead of raising: the command stops
    at its next safe point. A second one raises KeyboardInterrupt at once. Only the main
    thread may install handlers, so elsewhere (a test's worker thread) nothing is caught.
    ``also``: an event of the caller's set too (one that other things may set as well, as a
    drill's abort does; only Ctrl-C and SIGTERM count towards the second one).

    The handler never sets the events itself: it runs in the main thread between two
    bytecodes, possibly while that thread holds the event's own lock (inside ``wait``), and
    taking it again there would hang the command for good, deaf to every later signal. It
    hands the signal to a thread that sets them, through a queue whose ``put`` is reentrant."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return
    events = [asked] if also is None else [asked, also]
    received: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    relay = threading.Thread(target=_relay, args=(received, events), daemon=True)
    relay.start()
    counted: list[int] = []

    def handler(signum: int, _frame: Any) -> None:
        if counted:
            raise KeyboardInterrupt
        counted.append(signum)
        received.put(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield asked
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
        received.put(None)
        relay.join()


def _relay(received: queue.SimpleQueue[int | None], events: list[threading.Event]) -> None:
    """Set the events for the first signal handed over; end at None."""
    while received.get() is not None:
        for event in events:
            event.set()


@contextlib.contextmanager
def noted_interrupts() -> Iterator[threading.Event]:
    """Ctrl-C raises KeyboardInterrupt as usual, and is also noted in the event. An interrupt
    that lands inside an extension's C code can come out as another exception (confluent_kafka
    turns it into a TypeError while it reads its configuration): the event tells them apart."""
    noted = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield noted
        return
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield noted  # someone chose another handling (a test runner, an embedding program)
        return

    def handler(signum: int, frame: Any) -> None:
        noted.set()
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield noted
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
