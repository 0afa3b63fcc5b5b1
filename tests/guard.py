"""Fail any test that reaches for real credentials, real clusters, or a non-loopback address.

An audit hook (PEP 578) sees every ``open`` and ``socket.connect`` in this process and raises
before the file is read or a packet leaves. Subprocesses are covered by the environment the
conftest sets (KUBECONFIG, AWS_* pointing into a temporary directory).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
from pathlib import Path
from typing import Any

REAL_HOME = Path.home()
FORBIDDEN_DIRS = (REAL_HOME / ".kube", REAL_HOME / ".aws")


class GuardViolationError(RuntimeError):
    pass


class _Guard:
    active = False

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.active:
            return
        if event == "open" and args and isinstance(args[0], str | bytes | os.PathLike):
            self._check_path(os.fsdecode(args[0]))
        elif event == "socket.connect" and len(args) >= 2:
            self._check_address(args[0], args[1])
        elif event == "socket.getaddrinfo" and args:
            self._check_lookup(args[0])

    @staticmethod
    def _check_lookup(host: object) -> None:
        if isinstance(host, bytes):
            host = host.decode()
        if host is None or not isinstance(host, str) or _is_loopback(host):
            return
        raise GuardViolationError(f"test looked up {host}: tests only reach loopback addresses")

    @staticmethod
    def _check_path(path: str) -> None:
        resolved = Path(os.path.abspath(Path(path).expanduser()))  # noqa: PTH100 - no symlink resolution
        for forbidden in FORBIDDEN_DIRS:
            if resolved == forbidden or forbidden in resolved.parents:
                raise GuardViolationError(
                    f"test touched {resolved}: tests must never read real credentials"
                )

    @staticmethod
    def _check_address(sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        if not _is_loopback(address[0]):
            raise GuardViolationError(
                f"test connected to {address[0]}: tests only reach loopback addresses"
            )


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%", maxsplit=1)[0]).is_loopback
    except ValueError:
        return False


GUARD = _Guard()
sys.addaudithook(GUARD)
