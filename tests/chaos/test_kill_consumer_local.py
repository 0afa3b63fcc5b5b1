"""`hyperscale chaos kill-consumer` on the local target: a consumer killed under the drill's own
order stream; the lag's peak and its recovery are measured, and no order is lost (issue 14,
item 3)."""

from __future__ import annotations

import json

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.conftest import invoke
from tests.deploy.test_local_deploy import orders_of, wait_until_consumed
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]


def test_killing_a_consumer_reports_the_lag_and_its_recovery(
    platform: Environment, shared_app: AppContext
) -> None:
    outcome = invoke(
        shared_app, "chaos", "kill-consumer", "--env", platform.name, "-w", "consumer-2",
        "--rate", "20", "-o", "json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "ok", report["checks"]
    measured = report["measurements"]
    assert measured["recovery_s.consumer-2"] > 0
    assert measured["seconds_to_lag_recovered"] is not None
    assert measured["lag_peak"] <= platform.slo.consumer_lag_messages
    [note] = [e for e in report["timeline"] if e["what"] == "orders customer"]
    customer = note["detail"]["customer"]
    accepted = measured["orders_accepted"]
    assert accepted > 0

    def landed() -> bool:
        return len(orders_of(platform, shared_app, customer)) >= accepted

    wait_for(landed, 90, f"{accepted} orders of {customer} in MySQL")
    wait_until_consumed(platform, platform.kafka.topics.orders)
    assert len(orders_of(platform, shared_app, customer)) == accepted  # none lost, none twice


def test_kill_consumer_refuses_a_workload_that_is_not_a_consumer(
    platform: Environment, shared_app: AppContext
) -> None:
    outcome = invoke(shared_app, "chaos", "kill-consumer", "--env", platform.name, "-w", "api")
    assert outcome.exit_code == 2
    assert "consumers of" in outcome.stderr
