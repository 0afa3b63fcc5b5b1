"""A replicated local Kafka (the `dr` environment's three KRaft nodes): `kafka health` exit 1
while a node is down and 0 after; `dr drill broker-loss` loses no acknowledged record over
five runs, each killing a node with SIGKILL under an acks=all load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from tests.conftest import invoke
from tests.support import wait_for

pytestmark = pytest.mark.kafka


def _health(app: AppContext) -> tuple[int, dict]:
    outcome = invoke(app, "kafka", "health", "--env", "dr", "--timeout", "3", "-o", "json")
    document = json.loads(outcome.stdout)
    assert document["exit_code"] == outcome.exit_code
    return outcome.exit_code, document["data"]


def test_health_is_degraded_while_a_node_is_down_and_healthy_after(
    dr_kafka: Environment, shared_app: AppContext
) -> None:
    wait_for(lambda: _health(shared_app)[0] == 0, 60, "a healthy cluster to start from")
    invoke(shared_app, "kafka", "topics", "apply", "--env", "dr")  # RF 3 partitions to judge
    core.down(dr_kafka, shared_app, ["kafka-3"])
    try:
        _, data = wait_for(
            lambda: (h := _health(shared_app))[0] == 1 and h[1]["under_replicated"] and h,
            30,
            "kafka health to see the lost node",
        )
        assert data["status"] == "degraded"
        assert 3 not in [b["id"] for b in data["brokers"] if b["live"]]
        assert all(3 not in p["isr"] for p in data["under_replicated"])
        table = invoke(shared_app, "kafka", "health", "--env", "dr", "--timeout", "3")
        assert table.exit_code == 1
        assert "under-replicated" in table.stdout
    finally:
        up = core.up(dr_kafka, shared_app, ["kafka-3"])
        assert all(s.state.healthy for s in up.services)
    _, data = wait_for(
        lambda: (h := _health(shared_app))[0] == 0 and h, 120, "kafka health to be healthy"
    )
    assert data["problems"] == []
    assert data["controller"] in (1, 2, 3)


def test_broker_loss_drill_loses_no_acknowledged_record_over_five_runs(
    dr_kafka: Environment, shared_app: AppContext
) -> None:
    verdicts = []
    for run in range(5):
        outcome = invoke(
            shared_app,
            "dr", "drill", "broker-loss", "--env", "dr",
            # 9 s of load at 1,000/s: the kill comes after a quarter, so writes go on for
            # the whole 6 s outage and after it, however the acknowledgements bunch up.
            "--records", "9000", "--rate", "1000", "--down", "6",
            "--node", str(run % 3 + 1),
            "-o", "json",
        )  # fmt: skip
        data = json.loads(outcome.stdout)["data"]
        figures = data["measurements"]
        assert figures["acknowledged_records_lost"] == 0, data
        assert figures["records_acknowledged"] > 0
        assert figures["records_acknowledged_while_down"] > 0, data
        checks = {c["name"]: c["ok"] for c in data["checks"]}
        assert checks["health degraded (exit 1) while the node is down"], data
        assert checks["health healthy (exit 0) again within 180s"], data
        verdicts.append((outcome.exit_code, data["verdict"]))
        journal = json.loads(Path(data["journal"]).read_text(encoding="utf-8"))
        assert journal["verdict"] == data["verdict"]
    assert verdicts == [(0, "ok")] * 5
