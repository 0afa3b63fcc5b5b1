"""HTTP for operators: ``/metrics`` (Prometheus) and ``/healthz`` (is the loop alive?)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger(__name__)

STALL_AFTER_S = 30.0


class Heartbeat:
    """When the loop last made progress: polled Kafka, or took another retry step.

    A retry step counts: during a MySQL outage the loop is alive and waiting for it, and a
    restart would not help; a loop that neither polls nor retries is hung, and should be.
    """

    def __init__(
        self, stall_after_s: float = STALL_AFTER_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.stall_after_s = stall_after_s
        #: Injected so a test can move time instead of sleeping through it.
        self._clock = clock
        self._last = clock()
        self._last_poll = self._last
        self.state = "starting"
        #: Set once the loop gave up (the progress watchdog): unhealthy whatever the beats say.
        self.failure: str | None = None

    def beat(self, state: str | None = None) -> None:
        self._last = self._clock()
        if state is not None:
            self.state = state

    def polled(self) -> None:
        self._last = self._last_poll = self._clock()
        self.state = "polling"

    def fail(self, reason: str) -> None:
        """The loop polls but gets nowhere (records waiting, none read): it is ending."""
        self.failure = reason
        self.state = "no-progress"

    def status(self) -> tuple[bool, dict[str, object]]:
        now = self._clock()
        age = now - self._last
        healthy = age <= self.stall_after_s and self.failure is None
        body: dict[str, object] = {
            "status": "ok" if healthy else "stalled",
            "state": self.state,
            "last_progress_age_s": round(age, 3),
            "last_poll_age_s": round(now - self._last_poll, 3),
        }
        if self.failure is not None:
            body["reason"] = self.failure
        return healthy, body


class _Handler(BaseHTTPRequestHandler):
    server: OperatorServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._send(HTTPStatus.OK, CONTENT_TYPE_LATEST, generate_latest(self.server.registry))
        elif path == "/healthz":
            healthy, body = self.server.heartbeat.status()
            status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, "application/json", json.dumps(body).encode())
        else:
            self._send(HTTPStatus.NOT_FOUND, "text/plain", b"not found: try /metrics or /healthz\n")

    def _send(self, status: HTTPStatus, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("http %s", format % args)


class OperatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], registry: CollectorRegistry, heartbeat: Heartbeat
    ) -> None:
        self.registry = registry
        self.heartbeat = heartbeat
        super().__init__(address, _Handler)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever, name="operator-http", daemon=True
        )
        self._thread.start()
        host, port = self.server_address[:2]
        log.info("serving /metrics and /healthz", extra={"address": f"{host!s}:{port}"})

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
