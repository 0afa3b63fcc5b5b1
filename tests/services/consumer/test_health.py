"""/healthz and /metrics over real HTTP on loopback, from the consumer's own server."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from platform_consumer.health import Heartbeat, OperatorServer
from platform_consumer.metrics import ConsumerMetrics


@pytest.fixture
def served() -> Iterator[tuple[OperatorServer, Heartbeat, ConsumerMetrics]]:
    metrics = ConsumerMetrics()
    heartbeat = Heartbeat(stall_after_s=0.3)
    server = OperatorServer(("127.0.0.1", 0), metrics.registry, heartbeat)
    server.start()
    yield server, heartbeat, metrics
    server.stop()


def get(server: OperatorServer, path: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{server.server_address[1]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_healthz_turns_503_when_the_loop_stops_polling(
    served: tuple[OperatorServer, Heartbeat, ConsumerMetrics],
) -> None:
    server, heartbeat, _ = served
    heartbeat.polled()
    status, body = get(server, "/healthz")
    assert status == 200
    assert json.loads(body)["state"] == "polling"

    time.sleep(0.5)  # longer than stall_after_s without a poll
    status, body = get(server, "/healthz")
    assert status == 503
    assert json.loads(body)["status"] == "stalled"

    heartbeat.beat("retrying")  # a retry step is progress too
    status, body = get(server, "/healthz")
    assert (status, json.loads(body)["state"]) == (200, "retrying")


def test_metrics_expose_primed_series(
    served: tuple[OperatorServer, Heartbeat, ConsumerMetrics],
) -> None:
    server, _, metrics = served
    metrics.prime(("orders", "marketing-events"))
    metrics.events_applied.inc(3)
    status, body = get(server, "/metrics")
    assert status == 200
    assert "platform_consumer_events_applied_total 3.0" in body
    assert 'platform_consumer_dead_lettered_total{reason="decode",topic="orders"} 0.0' in body
    assert 'platform_consumer_db_retries_total{reason="connection"} 0.0' in body
    assert "_created" not in body
