"""Liveness, readiness, the benchmark route and the Prometheus metrics."""

from __future__ import annotations

import contextlib

import pytest

from tests.services.api.conftest import Catalogue
from tests.services.api.support import ApiClient, metric_value

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


def test_healthz_and_hello(api: ApiClient) -> None:
    assert api.get("/healthz").json == {"status": "ok"}
    hello = api.get("/hello")
    assert (hello.status, hello.json) == (200, {"hello": "world"})


def test_readyz_reports_each_dependency(api: ApiClient) -> None:
    reply = api.ready()
    assert reply.status == 200, reply
    assert reply.json == {
        "status": "ready",
        "checks": {"redis": "ok", "mysql": "ok", "kafka": "ok"},
    }


def test_metrics_count_requests_by_route_template(api: ApiClient, catalogue: Catalogue) -> None:
    before = api.metrics().text
    route = "/v1/products/{sku}"
    seen = metric_value(before, "http_requests_total", method="GET", route=route, status="200")
    api.get(f"/v1/products/{catalogue.stocked}")
    api.get(f"/v1/products/{catalogue.bare}")
    api.get("/no/such/route")

    reply = api.metrics()
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain")
    text = reply.text
    after = metric_value(text, "http_requests_total", method="GET", route=route, status="200")
    assert after == (seen or 0) + 2
    assert catalogue.stocked not in text  # the template, never the raw path
    assert (
        metric_value(
            text, "http_request_duration_seconds_count", method="GET", route=route, status="200"
        )
        == after
    )
    assert (
        'http_request_duration_seconds_bucket{le="0.1",method="GET",route="/v1/products/{sku}"'
        in text
    )
    assert metric_value(
        text, "http_requests_total", method="GET", route="<unmatched>", status="404"
    )
    for declared in ("http_request_errors_total", "kafka_delivery_failures_total"):
        assert f"# TYPE {declared} counter" in text


def _post_raw(api: ApiClient, head: bytes, chunks: list[bytes]) -> bytes:
    """Send a request's head and as much of its body as the server takes; what it answered."""
    import socket

    with socket.create_connection(("127.0.0.1", api.port), timeout=10) as sock:
        sock.sendall(head)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for chunk in chunks:
                sock.sendall(chunk)
        answer = b""
        with contextlib.suppress(ConnectionResetError):
            while block := sock.recv(65536):
                answer += block
    return answer


def test_a_body_over_the_limit_is_413_before_it_is_read(api: ApiClient) -> None:
    """Issue 19 item 7: an 8 MB body was accepted (pods have a 512 Mi limit). The server
    answers as soon as it sees the declared length, while most of the body is unsent."""
    size = 8 * 1024 * 1024
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {api.token}\r\nContent-Length: {size}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    answer = _post_raw(api, head, [b" " * 65536])
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert answer.endswith(b'"limit": 1048576}')


def test_a_chunked_body_over_the_limit_is_cut_off_with_413(api: ApiClient) -> None:
    head = (
        "POST /v1/events HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {api.token}\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"  # 64 KiB a chunk, 40 of them: 2.5 MiB
    answer = _post_raw(api, head, [chunk] * 40 + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


def test_invented_methods_do_not_grow_the_metric_series(api: ApiClient) -> None:
    """Issue 19 item 8: the raw method was a label, one new series per invented method."""
    # Methods uvicorn's parser accepts that no route serves (before: a series each).
    invented = ("PROPFIND", "MKCOL", "PURGE", "SEARCH", "UNLINK")
    for method in invented:
        api.request(method, "/v1/events")
    text = api.metrics().text
    assert not [m for m in invented if f'method="{m}"' in text]
    assert 'method="OTHER"' in text
