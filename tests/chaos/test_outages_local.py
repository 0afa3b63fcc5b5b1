"""`hyperscale chaos broker-restart` and `chaos db-failover` on the local target: Kafka, then
the MariaDB primary, stopped under the drill's own order stream through the API and started
again; checked here apart from the drill's own word: the service really restarted, and every
order the API accepted is in MySQL (issue 14, item 3)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local.services import SERVICE_TYPES
from tests.conftest import invoke
from tests.deploy.test_local_deploy import orders_of
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]


def _service_pid(env: Environment, app: AppContext, name: str) -> int | None:
    running = SERVICE_TYPES[name](env, app).process.running()
    return None if running is None else running.pid


def _drill(app: AppContext, env: Environment, drill: str, *args: str) -> dict[str, Any]:
    outcome = invoke(
        app, "chaos", drill, "--env", env.name, "--rate", "10", "--before", "1", "--down", "3",
        "--recovery-timeout", "90s", "-o", "json", *args,
    )  # fmt: skip
    report: dict[str, Any] = json.loads(outcome.stdout)["data"]
    assert outcome.exit_code == 0, [c for c in report.get("checks", []) if not c["ok"]]
    assert report["verdict"] == "ok"
    return report


def _landed(env: Environment, app: AppContext, report: dict[str, Any]) -> None:
    """Every order the API accepted is in MySQL, counted here apart from the drill. More may be
    there: a request answered 503 whose record was delivered after all (the API counts those
    as late deliveries), which the drill reports as orders_in_mysql_not_accepted; two broker
    restarts in eight showed one (docs/failure-scenarios.md)."""
    [note] = [e for e in report["timeline"] if e["what"] == "orders customer"]
    customer = note["detail"]["customer"]
    measured = report["measurements"]
    accepted = measured["orders_accepted"]
    assert accepted > 0
    wait_for(lambda: len(orders_of(env, app, customer)) >= accepted, 60, "the orders in MySQL")
    beyond = len(orders_of(env, app, customer)) - accepted
    assert beyond >= measured["orders_in_mysql_not_accepted"]


def test_broker_restart_answers_503_fast_and_loses_no_accepted_order(
    platform: Environment, shared_app: AppContext
) -> None:
    kafka = _service_pid(platform, shared_app, "kafka")
    report = _drill(shared_app, platform, "broker-restart")
    measured = report["measurements"]
    assert _service_pid(platform, shared_app, "kafka") not in (None, kafka)  # really restarted
    assert measured["refused_503_while_down"] > 0  # the API said so while Kafka was away
    assert measured["answer_s_while_down_max"] <= 2.0
    assert measured["seconds_to_first_accepted_after_start"] is not None
    assert measured["accepted_orders_missing"] == 0
    _landed(platform, shared_app, report)


def test_db_failover_restarts_mariadb_and_every_accepted_order_lands(
    platform: Environment, shared_app: AppContext
) -> None:
    mysql = _service_pid(platform, shared_app, "mysql")
    report = _drill(shared_app, platform, "db-failover")
    assert _service_pid(platform, shared_app, "mysql") not in (None, mysql)
    names = {c["name"] for c in report["checks"] if c["ok"]}
    assert "replica replicating again" in names
    assert report["measurements"]["accepted_orders_missing"] == 0
    _landed(platform, shared_app, report)


def test_outage_drills_refuse_a_kubernetes_target_and_show_a_dry_run(
    local_services: Environment, shared_app: AppContext
) -> None:
    refused = invoke(shared_app, "chaos", "broker-restart", "--env", "sandbox")
    assert refused.exit_code == 2
    assert "targets kubernetes" in refused.stderr
    assert "Traceback" not in refused.stderr
    kafka = _service_pid(local_services, shared_app, "kafka")
    planned = invoke(
        shared_app, "chaos", "broker-restart", "--env", "local", "--dry-run", "-o", "json"
    )
    assert planned.exit_code == 0, planned.stderr
    assert json.loads(planned.stdout)["data"]["running"] == ["kafka"]
    assert _service_pid(local_services, shared_app, "kafka") == kafka
    bad = invoke(shared_app, "chaos", "db-failover", "--env", "local", "--max-refusal", "fast")
    assert bad.exit_code == 2
    assert "--max-refusal" in bad.stderr
