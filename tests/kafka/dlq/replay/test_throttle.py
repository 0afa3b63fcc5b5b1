"""The replay's rate limit: a long wait still answers Ctrl-C at once, whichever thread the
kernel gave the signal to."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from hyperscale.kafka.dlq.replay.throttle import Throttle


def test_ctrl_c_given_to_another_thread_ends_a_long_wait() -> None:
    """At --rate 0.01 the second record waits 100 s. Python runs signal handlers in the main
    thread only; when the kernel delivers Ctrl-C to another thread (here the main thread blocks
    it, as a busy one can be passed over), the main thread must still wake to act on it."""
    throttle = Throttle(records_per_second=0.01)
    throttle.pass_record(1)  # the burst: the first record goes at once

    def press_ctrl_c() -> None:
        time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)  # made before the block: it takes signals
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser.start()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            throttle.pass_record(1)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, previous)
        presser.join()
    assert time.monotonic() - started < 50  # not at the end of the 100 s wait
