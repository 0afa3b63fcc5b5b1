"""A background process with a pid file: started detached, found again, stopped, or found stale."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil

from hyperscale.errors import ExternalSystemError
from hyperscale.logfiles import log_tail
from hyperscale.runner import run

#: psutil reports start times rounded to the clock tick; a larger gap means another process.
_START_TIME_TOLERANCE_S = 0.5


@dataclass(frozen=True)
class RunningProcess:
    pid: int
    started_at: float


class ManagedProcess:
    """One named process whose identity (pid + start time) is kept in ``<run_dir>/<name>.pid``.

    The start time guards against pid reuse: a pid file whose process is gone, or whose pid now
    belongs to another process, is stale and is removed.
    """

    def __init__(self, name: str, run_dir: Path, log_path: Path) -> None:
        self.name = name
        self.pid_file = run_dir / f"{name}.pid"
        self.log_path = log_path
        self.cleaned_stale = False

    def running(self) -> RunningProcess | None:
        try:
            record = json.loads(self.pid_file.read_text(encoding="utf-8"))
            pid, created = int(record["pid"]), float(record["create_time"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            self._drop_stale()
            return None
        try:
            proc = psutil.Process(pid)
            alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
            same = abs(proc.create_time() - created) < _START_TIME_TOLERANCE_S
        except psutil.Error:
            alive = same = False
        if alive and same:
            return RunningProcess(pid, created)
        self._drop_stale()
        return None

    def _drop_stale(self) -> None:
        self.pid_file.unlink(missing_ok=True)
        self.cleaned_stale = True

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise start and stop of this process across concurrent hyperscale commands."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with self.pid_file.with_suffix(".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def start(
        self, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None
    ) -> RunningProcess:
        """Start detached with exactly ``env`` (no inherited credentials), output to the log."""
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting {self.name}\n".encode())
        launcher = run(
            [sys.executable, "-m", "hyperscale.local.launch", str(self.log_path), "--", *argv],
            cwd=cwd,
            env=env,
            inherit_env=False,
            new_session=True,  # its own process group: stop() signals the whole group
            timeout=30,
            what=f"starting {self.name}",
        )
        if not launcher.stdout.strip().isdigit():
            raise ExternalSystemError(f"could not start {self.name}: the launcher gave no pid")
        pid = int(launcher.stdout.strip())
        try:
            created = psutil.Process(pid).create_time()
        except psutil.NoSuchProcess:
            created = (
                0.0  # it died at once; running() will call it stale and the caller reads the log
            )
        tmp = self.pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": pid, "create_time": created, "argv0": argv[0]}))
        tmp.replace(self.pid_file)
        return RunningProcess(pid, created)

    def exited(self) -> bool:
        return self.running() is None

    def stop(self, timeout: float = 20.0) -> bool:
        """SIGTERM the process group, SIGKILL it after ``timeout``. False if nothing was running."""
        current = self.running()
        if current is None:
            return False
        self._signal_group(current.pid, signal.SIGTERM)
        try:
            psutil.Process(current.pid).wait(timeout)
        except psutil.TimeoutExpired:
            self._signal_group(current.pid, signal.SIGKILL)
            with contextlib.suppress(psutil.Error):
                psutil.Process(current.pid).wait(5)
        except psutil.NoSuchProcess:
            pass
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self, timeout: float = 10.0) -> bool:
        """SIGKILL the process group at once (a crash, for drills). False if nothing ran."""
        current = self.running()
        if current is None:
            return False
        self._signal_group(current.pid, signal.SIGKILL)
        with contextlib.suppress(psutil.Error):
            psutil.Process(current.pid).wait(timeout)
        self.pid_file.unlink(missing_ok=True)
        return True

    @staticmethod
    def _signal_group(pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(os.getpgid(pid), sig)

    def log_tail(self, lines: int = 10) -> list[str]:
        return log_tail(self.log_path, lines)
