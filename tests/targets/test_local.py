"""The local target on the real platform: a disrupted program comes back, rollback says why not."""

from __future__ import annotations

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.targets.local import LocalTarget
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]


def _pid(target: LocalTarget, name: str) -> int | None:
    return next((w.pid for w in target.status().workloads if w.name == name), None)


def test_a_killed_program_is_replaced_and_ready_again(
    platform: Environment, shared_app: AppContext
) -> None:
    target = LocalTarget(platform, shared_app)
    target.wait_ready(60)
    before = _pid(target, "consumer-2")
    assert before is not None
    hit = target.disrupt("consumer-2", 1)
    assert [(d.workload, d.instance, d.how) for d in hit] == [
        ("consumer-2", f"pid {before}", "SIGKILL")
    ]
    # supervisord notices the death and starts a new process under a new pid
    after = wait_for(
        lambda: (pid := _pid(target, "consumer-2")) not in (None, before) and pid,
        60,
        "a new consumer-2 process",
    )
    states = {w.name: w for w in target.wait_ready(60)}
    assert states["consumer-2"].pid == after
    assert states["consumer-2"].ready
    assert all(w.ready for w in states.values())


def test_disrupting_an_unknown_program_names_the_known_ones(
    platform: Environment, shared_app: AppContext
) -> None:
    target = LocalTarget(platform, shared_app)
    with pytest.raises(UsageError) as caught:
        target.disrupt("consumer-9", 1)
    assert caught.value.hint is not None
    assert "api" in caught.value.hint
    assert "consumer-1" in caught.value.hint


def test_the_workloads_are_the_programs_deploy_runs(
    platform: Environment, shared_app: AppContext
) -> None:
    target = LocalTarget(platform, shared_app)
    workloads = {w.name: w.role for w in target.workloads()}
    assert workloads == {"api": "api", "consumer-1": "consumer", "consumer-2": "consumer"}
    running = {w.name for w in target.status().workloads}
    assert running == set(workloads)


def test_rollback_says_why_the_local_target_has_none(isolated_app: AppContext) -> None:
    from hyperscale.config.loader import load_environment

    env = load_environment(isolated_app, "local")
    with pytest.raises(UsageError, match="keeps no earlier release"):
        LocalTarget(env, isolated_app).rollback(None)


def test_a_stopped_platform_deploys_again_at_once(
    platform: Environment, shared_app: AppContext
) -> None:
    """`local down` then `deploy` straight away: supervisord must have let go of its socket
    before stop returns (it once failed with exit 2 here, still shutting down)."""
    from hyperscale.deploy import core as deploy_core

    target = LocalTarget(platform, shared_app)
    assert target.stop()
    assert not target.supervisor.running()
    again = deploy_core.deploy(platform, shared_app)
    assert {p.action for p in again.programs} == {"started"}
    assert all(w.ready for w in target.status().workloads)
