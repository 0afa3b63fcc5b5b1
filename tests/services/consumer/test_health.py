"""/healthz and /metrics over real HTTP on loopback, from the consumer's own server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from platform_consumer.health import Heartbeat, OperatorServer
from platform_consumer.metrics import ConsumerMetrics


class ManualClock:
    """Time that moves only when the test says so: the stall rule, not the machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def served(clock: ManualClock) -> Iterator[tuple[OperatorServer, Heartbeat, ConsumerMetrics]]:
    metrics = ConsumerMetrics()
    heartbeat = Heartbeat(stall_after_s=30.0, clock=clock)
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
    served: tuple[OperatorServer, Heartbeat, ConsumerMetrics], clock: ManualClock
) -> None:
    server, heartbeat, _ = served
    heartbeat.polled()
    clock.now += 30.0  # right at the limit: still alive
    status, body = get(server, "/healthz")
    assert status == 200
    assert json.loads(body)["state"] == "polling"

    clock.now += 0.5  # past stall_after_s without a poll
    status, body = get(server, "/healthz")
    assert status == 503
    answer = json.loads(body)
    assert answer["status"] == "stalled"
    assert answer["last_progress_age_s"] == 30.5

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
