"""The adapter to supervisord: start the daemon, apply a new configuration, read process states."""

from __future__ import annotations

import contextlib
import socket
import time
import xmlrpc.client
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.errors import ExternalSystemError
from hyperscale.runner import run


@dataclass(frozen=True)
class ProgramInfo:
    name: str
    state: str  # RUNNING, STARTING, BACKOFF, FATAL, EXITED, STOPPED...
    pid: int | None
    started_at: float | None
    log_file: str


@dataclass(frozen=True)
class ConfigChanges:
    added: list[str]
    changed: list[str]
    removed: list[str]


class Supervisor:
    def __init__(self, config: Path, socket: Path) -> None:
        self.config = config
        self.socket = socket

    @contextlib.contextmanager
    def _rpc(self) -> Iterator[Any]:
        """An XML-RPC proxy over the unix socket; its connection is closed after use."""
        from supervisor.xmlrpc import SupervisorTransport

        # The transport leaks its socket when the connect fails: check the socket accepts first.
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            probe.connect(str(self.socket))
        transport = SupervisorTransport(None, None, serverurl=f"unix://{self.socket}")
        try:
            yield xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)
        finally:
            transport.close()

    def running(self) -> bool:
        try:
            with self._rpc() as rpc:
                return bool(rpc.supervisor.getState()["statename"] == "RUNNING")
        except (OSError, xmlrpc.client.Error):
            return False

    def start_daemon(self, supervisord: str, env: dict[str, str]) -> None:
        """Start supervisord (it daemonizes itself) and wait for its socket to answer."""
        run(
            [supervisord, "-c", str(self.config)],
            env=env,
            inherit_env=False,
            timeout=30,
            what="supervisord",
        )
        deadline = time.monotonic() + 15
        while not self.running():
            if time.monotonic() > deadline:
                raise ExternalSystemError(f"supervisord did not answer on {self.socket}")
            time.sleep(0.1)

    def apply_config(self) -> ConfigChanges:
        """What `supervisorctl update` does: reread, then add, replace or remove program groups."""
        try:
            with self._rpc() as rpc:
                return self._apply(rpc)
        except (OSError, xmlrpc.client.Error) as exc:
            raise ExternalSystemError(f"supervisord refused the new configuration: {exc}") from None

    @staticmethod
    def _apply(rpc: Any) -> ConfigChanges:
        [[added, changed, removed]] = rpc.supervisor.reloadConfig()
        for name in removed:
            rpc.supervisor.stopProcessGroup(name)
            rpc.supervisor.removeProcessGroup(name)
        for name in changed:
            rpc.supervisor.stopProcessGroup(name)
            rpc.supervisor.removeProcessGroup(name)
            rpc.supervisor.addProcessGroup(name)
        for name in added:
            rpc.supervisor.addProcessGroup(name)
        return ConfigChanges(sorted(added), sorted(changed), sorted(removed))

    def programs(self) -> list[ProgramInfo]:
        try:
            with self._rpc() as rpc:
                infos = rpc.supervisor.getAllProcessInfo()
        except (OSError, xmlrpc.client.Error) as exc:
            raise ExternalSystemError(
                f"supervisord on {self.socket} does not answer: {exc}"
            ) from None
        return [
            ProgramInfo(
                name=info["name"],
                state=info["statename"],
                pid=info["pid"] or None,
                started_at=float(info["start"]) if info["start"] else None,
                log_file=info["stdout_logfile"],
            )
            for info in infos
        ]

    def stop_program(self, name: str) -> None:
        """Stop one program (it stays stopped until ``start_program``, even with autorestart)."""
        self._call(f"stopping {name}", lambda rpc: rpc.supervisor.stopProcess(name))

    def start_program(self, name: str) -> None:
        self._call(f"starting {name}", lambda rpc: rpc.supervisor.startProcess(name))

    def _call(self, doing: str, call: Callable[[Any], object]) -> None:
        try:
            with self._rpc() as rpc:
                call(rpc)
        except (OSError, xmlrpc.client.Error) as exc:
            raise ExternalSystemError(
                f"supervisord on {self.socket}: {doing} failed: {exc}"
            ) from None

    def shutdown(self, within: float) -> None:
        """Stop supervisord and its programs; return once it has let go of its socket.

        Its state leaves RUNNING as soon as the shutdown begins, while it still stops the
        programs and still holds the socket: a new supervisord started then fails. So wait
        until nothing accepts on the socket any more, for ``within`` seconds: longer than the
        programs' stop grace (``stopwaitsecs``), after which supervisord kills what is left.
        """
        try:
            with self._rpc() as rpc:
                rpc.supervisor.shutdown()
        except (OSError, xmlrpc.client.Error):
            return
        deadline = time.monotonic() + within
        while self._accepting() and time.monotonic() < deadline:
            time.sleep(0.2)
        if self._accepting():
            raise ExternalSystemError(
                f"supervisord on {self.socket} did not stop within {within:.0f}s"
            )

    def _accepting(self) -> bool:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(2)
            try:
                probe.connect(str(self.socket))
            except OSError:
                return False
        return True
