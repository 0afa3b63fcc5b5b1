"""`hyperscale deploy`, `status` and `smoke` as a user runs them, on the real local platform:
the exit codes cron and CI rely on when something is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.targets.local import LocalTarget
from tests.conftest import invoke

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]


@contextmanager
def stopped(env: Environment, app: AppContext, *programs: str) -> Iterator[None]:
    """The named programs stopped through supervisord, started again afterwards."""
    target = LocalTarget(env, app)
    for name in programs:
        target.supervisor.stop_program(name)
    try:
        yield
    finally:
        for name in programs:
            target.supervisor.start_program(name)
        target.wait_ready(120)


def test_deploy_again_through_the_cli_changes_nothing(
    platform: Environment, shared_app: AppContext
) -> None:
    outcome = invoke(shared_app, "deploy", "--env", "local", "-o", "json")
    assert outcome.exit_code == 0, outcome.stdout
    data = json.loads(outcome.stdout)["data"]
    assert (data["target"], data["changed"]) == ("local", False)
    assert {p["name"]: p["action"] for p in data["programs"]} == {
        "api": "unchanged",
        "consumer-1": "unchanged",
        "consumer-2": "unchanged",
    }
    assert all(p["ready"] and p["pid"] for p in data["programs"])


def test_status_exits_1_when_a_program_is_not_ready(
    platform: Environment, shared_app: AppContext
) -> None:
    with stopped(platform, shared_app, "consumer-2"):
        outcome = invoke(shared_app, "status", "--env", "local", "-o", "json")
        table = invoke(shared_app, "status", "--env", "local")
    assert outcome.exit_code == 1
    document = json.loads(outcome.stdout)
    assert document["status"] == "failed"
    programs = {p["name"]: p for p in document["data"]["programs"]}
    assert (programs["consumer-2"]["action"], programs["consumer-2"]["ready"]) == (
        "stopped",
        False,
    )
    assert programs["api"]["ready"]
    assert programs["consumer-1"]["ready"]
    assert table.exit_code == 1
    assert "consumer-2" in table.stdout
    # and once it runs again, status is green
    assert invoke(shared_app, "status", "--env", "local").exit_code == 0


def test_smoke_exits_1_when_orders_do_not_reach_mysql(
    platform: Environment, shared_app: AppContext
) -> None:
    """No consumer runs: the API accepts the orders, nothing applies them."""
    with stopped(platform, shared_app, "consumer-1", "consumer-2"):
        outcome = invoke(
            shared_app,
            "smoke",
            "--env",
            "local",
            "--orders",
            "3",
            "--events",
            "3",
            "--timeout",
            "3",
            "-o",
            "json",
        )
    assert outcome.exit_code == 1, outcome.stdout
    data = json.loads(outcome.stdout)["data"]
    assert data["passed"] is False
    assert (data["orders_sent"], data["orders_accepted"], data["orders_in_mysql"]) == (3, 3, 0)
    assert "not everything reached MySQL within 3s" in data["errors"]
