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

    @staticmethod
    def _check_path(path: str) -> None:
        resolved = Path(path).expanduser()
        for forbidden in FORBIDDEN_DIRS:
            if resolved == forbidden or forbidden in resolved.parents:
                raise GuardViolationError(
                    f"test touched {resolved}: tests must never read real credentials"
                )

    @staticmethod
    def _check_address(sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return
        host = address[0]
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise GuardViolationError(
                f"test connected to {host}: tests only reach loopback addresses"
            )


GUARD = _Guard()
sys.addaudithook(GUARD)
