"""Ctrl-C and SIGTERM as stop requests (hyperscale.interrupts), in processes of their own: the
signals are real, sent to a real main thread."""

from __future__ import annotations

import subprocess
import sys
import textwrap

#: Each round enters stop_requests, waits on its event in a tight loop and is sent one SIGINT
#: at a random moment. Before the fix the handler set the event itself, and a signal landing
#: while the main thread held the event's lock (inside `wait`) hung the process for good:
#: every try of 50 rounds hung. This was CI's `kafka lag --watch` that Ctrl-C did not stop.
ROUNDS = """
import os, random, signal, threading
from hyperscale.interrupts import stop_requests

for _ in range(500):
    with stop_requests() as stop:
        threading.Timer(random.random() * 0.002, os.kill, (os.getpid(), signal.SIGINT)).start()
        while not stop.wait(0):
            pass
print("all stopped")
"""


def _run(script: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=timeout,  # a hang fails (SIGKILL: the process may be deaf to SIGTERM)
        check=False,
    )


def test_a_signal_landing_inside_a_wait_on_the_event_stops_it() -> None:
    done = _run(ROUNDS)
    assert (done.returncode, done.stdout, done.stderr) == (0, "all stopped\n", "")


def test_the_first_signal_asks_the_second_interrupts_and_both_events_are_set() -> None:
    done = _run(
        """
        import os, signal, threading
        from hyperscale.interrupts import stop_requests

        also = threading.Event()
        with stop_requests(also=also) as stop:
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop.wait(10) and also.wait(10), "the first signal is a request"
            try:
                os.kill(os.getpid(), signal.SIGINT)
                threading.Event().wait(10)
            except KeyboardInterrupt:
                print("second: interrupted")
        # outside, the previous handlers are back: SIGINT raises as Python's default does
        try:
            os.kill(os.getpid(), signal.SIGINT)
            threading.Event().wait(10)
        except KeyboardInterrupt:
            print("after: default")
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "second: interrupted\nafter: default\n",
        "",
    )
