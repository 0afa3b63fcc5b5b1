"""A drill ends early, cleanly: when its steady state breaks while it runs (the API frozen with
SIGSTOP) it aborts before doing more harm, and SIGTERM stops it at its next safe point; both
times the undo runs and the journal says why and when (issue 14: early abort, external stop).

The drills are called through their core function, so a progress callback can act at a known
step (the CLI shows the same steps on a spinner); what they return is what the CLI renders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hyperscale.chaos.consumer import KillConsumerSettings, kill_consumer
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.results import DrillReport
from hyperscale.exit_codes import ExitCode
from hyperscale.targets.local import LocalTarget
from tests.deploy.test_local_deploy import query, wait_until_consumed
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]

#: Long enough that the drill would still be sampling the lag when it is stopped; the test
#: never waits this long (it waits on conditions).
BEFORE_S = 60.0


def _pids(env: Environment, app: AppContext) -> dict[str, int | None]:
    return {p.name: p.pid for p in LocalTarget(env, app).supervisor.programs()}


def _journal(report: DrillReport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(report.journal).read_text(encoding="utf-8"))
    return data


def _at_step(prefix: str, action: Any) -> Any:
    done: list[float] = []

    def progress(step: str) -> None:
        if step.startswith(prefix) and not done:
            done.append(time.monotonic())
            action()

    return progress, done


def test_the_api_frozen_mid_drill_aborts_it_before_the_kill(
    platform: Environment, shared_app: AppContext
) -> None:
    before = _pids(platform, shared_app)
    api = before["api"]
    assert api is not None
    progress, frozen = _at_step("orders at", lambda: os.kill(api, signal.SIGSTOP))
    settings = KillConsumerSettings(
        workload="consumer-2", rate=5, before_s=BEFORE_S, recovery_timeout_s=30
    )
    try:
        report = kill_consumer(platform, shared_app, settings, progress)
    finally:
        os.kill(api, signal.SIGCONT)
    assert isinstance(report, DrillReport)
    assert frozen, "the drill never started its orders"
    assert report.verdict == "aborted", report.checks
    assert report.exit_code == ExitCode.CHECK_FAILED
    journal = _journal(report)
    assert journal["verdict"] == "aborted"
    stopped = journal["stopped"]
    assert stopped["kind"] == "aborted"
    assert "API" in stopped["why"]
    assert stopped["at_s"] < BEFORE_S  # during the drill, not at its end
    [during] = [c for c in journal["checks"] if c["name"] == "steady state during"]
    assert not during["ok"]
    assert "broke at" in during["detail"]
    # No further harm: consumer-2 was never killed, and the order stream was stopped (undo).
    assert not [e for e in journal["timeline"] if e["what"].startswith("kill ")]
    assert "stop the orders" in [e["what"] for e in journal["timeline"] if e["kind"] == "undo"]
    assert _pids(platform, shared_app)["consumer-2"] == before["consumer-2"]
    wait_for(
        lambda: _pids(platform, shared_app)["api"] == api and _api_ready(platform, shared_app),
        30,
        "the API ready again after SIGCONT",
    )


def test_sigterm_stops_the_drill_at_its_next_safe_point_with_a_journal(
    platform: Environment, shared_app: AppContext
) -> None:
    before = _pids(platform, shared_app)
    progress, sent = _at_step("orders at", lambda: os.kill(os.getpid(), signal.SIGTERM))
    handler = signal.getsignal(signal.SIGTERM)
    settings = KillConsumerSettings(
        workload="consumer-2", rate=5, before_s=BEFORE_S, recovery_timeout_s=30
    )
    report = kill_consumer(platform, shared_app, settings, progress)
    assert isinstance(report, DrillReport)
    assert sent
    assert signal.getsignal(signal.SIGTERM) == handler  # given back
    assert report.verdict == "interrupted"
    assert report.exit_code == ExitCode.INTERRUPTED == 130
    journal = _journal(report)
    assert journal["stopped"]["kind"] == "interrupted"
    assert journal["stopped"]["at_s"] < BEFORE_S
    kinds = [e["kind"] for e in journal["timeline"]]
    assert "interrupt" in kinds
    assert kinds.index("interrupt") < kinds.index("undo")  # stopped, then the undo ran
    assert _pids(platform, shared_app)["consumer-2"] == before["consumer-2"]


def _api_ready(env: Environment, app: AppContext) -> bool:
    states = LocalTarget(env, app).status().workloads
    return any(w.name == "api" and w.ready for w in states)


def _chaos_customers(env: Environment, app: AppContext) -> set[str]:
    """The customers of drills' order streams with an order in MySQL (one per stream)."""
    sql = "SELECT DISTINCT customer_id FROM orders WHERE customer_id LIKE 'chaos-%'"
    return {str(row[0]) for row in query(env, app, sql)}


def test_ctrl_c_on_the_command_exits_130_with_the_verdict_and_a_journal(
    platform: Environment, shared_app: AppContext
) -> None:
    """The real command in its own process, Ctrl-C once its orders flow: exit 130 through the
    error boundary, the report (verdict interrupted) on stdout, no traceback."""
    environ = {
        **os.environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(shared_app.environments_dir),
        "HYPERSCALE_STATE_DIR": str(shared_app.state_dir),  # the running platform's
    }
    before = _pids(platform, shared_app)
    # Every order an earlier drill sent is in MySQL first; then this drill's orders are those
    # of a customer not seen before (each order stream has its own).
    wait_until_consumed(platform, platform.kafka.topics.orders)
    customers = _chaos_customers(platform, shared_app)
    argv = [sys.executable, "-m", "hyperscale", "chaos", "kill-consumer", "--env", "local",
            "-w", "consumer-2", "--rate", "5", "--before", str(BEFORE_S), "-o", "json"]  # fmt: skip
    drill = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=environ)  # fmt: skip
    try:
        wait_for(
            lambda: _chaos_customers(platform, shared_app) - customers, 60, "the drill's orders"
        )
        drill.send_signal(signal.SIGINT)
        out, err = drill.communicate(timeout=60)  # a hang fails
    finally:
        if drill.poll() is None:
            drill.kill()
            drill.communicate()
    assert drill.returncode == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err
    report = json.loads(out)["data"]
    assert report["verdict"] == "interrupted"
    assert report["stopped"]["kind"] == "interrupted"
    assert Path(report["journal"]).exists()
    assert _pids(platform, shared_app)["consumer-2"] == before["consumer-2"]
