"""The pid-file process manager, on real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from hyperscale.local.process import ManagedProcess
from tests.support import wait_for

CLEAN_ENV = {"PATH": os.defpath}
SLEEPER = [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"]
#: Ignores SIGTERM, saying so in its log each time one arrives; only SIGKILL ends it early.
STUBBORN = [
    sys.executable,
    "-c",
    "import signal, time\n"
    "signal.signal(signal.SIGTERM, lambda *_: print('TERM ignored', flush=True))\n"
    "print('up', flush=True)\n"
    "while True: time.sleep(60)",
]


def _managed(tmp_path: Path) -> ManagedProcess:
    return ManagedProcess("worker", tmp_path / "run", tmp_path / "logs" / "worker.log")


def test_start_is_found_again_and_stops(tmp_path: Path) -> None:
    managed = _managed(tmp_path)
    started = managed.start(SLEEPER, env=CLEAN_ENV)
    again = ManagedProcess("worker", tmp_path / "run", tmp_path / "logs" / "worker.log").running()
    assert again == started
    assert managed.stop(timeout=5)
    assert _gone(started.pid)
    assert managed.running() is None
    assert not managed.pid_file.exists()


def test_output_goes_to_the_log(tmp_path: Path) -> None:
    managed = _managed(tmp_path)
    managed.start(SLEEPER, env=CLEAN_ENV)
    try:
        deadline = time.monotonic() + 10
        while "ready" not in "".join(managed.log_tail()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert managed.log_tail()[-1] == "ready"
    finally:
        managed.stop(timeout=5)


def test_pid_file_of_a_dead_process_is_stale_and_removed(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    managed = _managed(tmp_path)
    managed.pid_file.parent.mkdir(parents=True)
    managed.pid_file.write_text(json.dumps({"pid": int(dead.stdout), "create_time": 1.0}))
    assert managed.running() is None
    assert managed.cleaned_stale
    assert not managed.pid_file.exists()


def test_reused_pid_is_not_mistaken_for_ours(tmp_path: Path) -> None:
    """A pid file naming a live process that started at another time is stale (pid reuse)."""
    managed = _managed(tmp_path)
    managed.pid_file.parent.mkdir(parents=True)
    me = psutil.Process()
    managed.pid_file.write_text(json.dumps({"pid": me.pid, "create_time": me.create_time() - 1000}))
    assert managed.running() is None
    assert managed.cleaned_stale
    assert psutil.pid_exists(me.pid)  # and nothing was signalled
    assert managed.stop() is False


def test_garbage_pid_file_is_stale(tmp_path: Path) -> None:
    managed = _managed(tmp_path)
    managed.pid_file.parent.mkdir(parents=True)
    managed.pid_file.write_text("not json")
    assert managed.running() is None
    assert not managed.pid_file.exists()


def test_stop_escalates_to_sigkill_when_sigterm_is_ignored(tmp_path: Path) -> None:
    managed = _managed(tmp_path)
    started = managed.start(STUBBORN, env=CLEAN_ENV)
    wait_for(lambda: "up" in managed.log_tail(), 30, "the handler installed ('up' logged)")
    begun = time.monotonic()
    assert managed.stop(timeout=1)
    # SIGTERM arrived and was ignored, the grace period was waited out, and the process is gone:
    # the one signal it cannot ignore ended it.
    assert "TERM ignored" in managed.log_tail()
    assert time.monotonic() - begun >= 1
    assert _gone(started.pid)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True
