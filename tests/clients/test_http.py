"""The plain HTTP adapter against a real server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hyperscale.clients.http import http_status, post_json
from tests.support import free_port


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        code = 200 if self.path == "/readyz" else 503
        self.send_response(code)
        self.end_headers()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        code = 202 if body.get("ok") else 422
        answer = json.dumps({"echo": body, "key": self.headers.get("Idempotency-Key")}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_status_of_a_get_whatever_the_code(server: str) -> None:
    assert http_status(f"{server}/readyz") == 200
    assert http_status(f"{server}/other") == 503


def test_nothing_listening_is_none_not_an_exception() -> None:
    assert http_status(f"http://127.0.0.1:{free_port()}/readyz", timeout=0.5) is None


def test_post_json_returns_the_answer_of_an_error_too(server: str) -> None:
    status, answer = post_json(f"{server}/v1/orders", {"ok": True}, {"Idempotency-Key": "k1"})
    assert (status, answer) == (202, {"echo": {"ok": True}, "key": "k1"})
    status, answer = post_json(f"{server}/v1/orders", {"ok": False}, {})
    assert status == 422
    assert answer["echo"] == {"ok": False}
