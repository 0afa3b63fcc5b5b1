"""Prometheus metrics and the ASGI middleware that records every request.

Requests are labelled by route *template* (``/v1/products/{sku}``), never by the raw path, so a
client cannot grow the number of series; a path that matches no route is ``<unmatched>``.
"""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    start_http_server,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "<unmatched>"
#: Methods labelled as themselves; any other (a client can invent one per request) is OTHER, so
#: the series stay bounded (issue 19 item 8).
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "OTHER"

# ``*_created`` series double the series count and no dashboard or rule here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in prometheus-client

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time from the request's arrival to the end of its response.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0),
)
HTTP_ERRORS = Counter(
    "http_request_errors_total",
    "Requests that ended in a server error (5xx or an unhandled exception), by route.",
    ["route", "method"],
)
KAFKA_DELIVERY_FAILURES = Counter(
    "kafka_delivery_failures_total",
    "Records not acknowledged, by topic and reason: librdkafka's error name, unavailable (not"
    " sent: no broker reachable), queue_full, or unconfirmed (no report within the request's"
    " wait; its report, when it comes, counts again if it is a failure).",
    ["topic", "reason"],
)
KAFKA_LATE_DELIVERIES = Counter(
    "kafka_late_deliveries_total",
    "Records acknowledged after the client had been answered 503, by topic.",
    ["topic"],
)
KAFKA_AVAILABLE = Gauge(
    "kafka_producer_available",
    "1 while the producer believes a broker is reachable, 0 while it fails requests fast.",
)
KAFKA_PRODUCER_REPLACEMENTS = Counter(
    "kafka_producer_replacements_total",
    "Producers replaced by a new one: after a fatal error, or after the cluster was unreachable"
    " for longer than the replacement delay (a librdkafka producer was seen to stop reconnecting).",
)
DEPENDENCY_UP = Gauge(
    "platform_dependency_up",
    "1 when the dependency answered the last readiness check, 0 when it did not.",
    ["dependency"],
)
CACHE_LOOKUPS = Counter(
    "product_cache_lookups_total",
    "Product cache lookups by result: hit, miss, or error (Redis unreachable, read as a miss).",
    ["result"],
)
CACHE_INVALIDATION_FAILURES = Counter(
    "product_cache_invalidation_failures_total",
    "Product updates whose cached copy could not be replaced (it expires within the TTL).",
)


def render() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST


def serve(host: str, port: int) -> Any:
    """``/metrics`` on its own listener (a thread), apart from the public routes: the load
    balancer forwards only the API's port, Prometheus scrapes this one inside the cluster."""
    server, _thread = start_http_server(port, addr=host)
    return server


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): one timer and two label lookups per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # Label lookups cost more than the increments: keep each series' children at hand.
        self._series: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope["method"])
            if method not in KNOWN_METHODS:
                method = OTHER_METHOD
            series = self._series.get((route, method, status))
            if series is None:
                series = (
                    HTTP_REQUESTS.labels(route, method, str(status)),
                    HTTP_LATENCY.labels(route, method, str(status)),
                )
                self._series[(route, method, status)] = series
            series[0].inc()
            series[1].observe(elapsed)
            if status >= 500:  # noqa: PLR2004 - the 5xx class
                HTTP_ERRORS.labels(route, method).inc()


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED
