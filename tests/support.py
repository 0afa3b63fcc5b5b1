"""Helpers every test module shares: polling with a deadline, free loopback ports."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll until ``predicate`` returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def free_ports(count: int) -> list[int]:
    """Loopback ports free right now (held together while chosen, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    return free_ports(1)[0]


#: ``Authorization`` for requests to the deployed platform's API (set by the platform fixture).
API_AUTH: dict[str, str] = {}


def pod_ready(pod: Any) -> bool:
    """A lightkube Pod that is Running, Ready and not being deleted."""
    status = pod.status
    return bool(
        pod.metadata.deletionTimestamp is None
        and status
        and status.phase == "Running"
        and any(c.type == "Ready" and c.status == "True" for c in status.conditions or [])
    )
