"""Liveness, readiness, the benchmark route and the Prometheus metrics."""

from __future__ import annotations

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
