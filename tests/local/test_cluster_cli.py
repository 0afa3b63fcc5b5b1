"""`hyperscale local cluster up|down|status` through a whole life cycle, on a private cluster."""

from __future__ import annotations

import json

import pytest
import yaml

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.support import free_ports

pytestmark = pytest.mark.k8s


@pytest.fixture
def private_cluster_app(isolated_app: AppContext) -> AppContext:
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    api, etcd, peer, cm, sched, kwok, metrics = free_ports(7)
    data["local"]["cluster"] = {
        "name": "lifecycle",
        "apiserver_port": api,
        "etcd_port": etcd,
        "etcd_peer_port": peer,
        "controller_manager_port": cm,
        "scheduler_port": sched,
        "kwok_port": kwok,
        "metrics_server_port": metrics,
        "zones": ["eu-west-1a", "eu-west-1b"],
    }
    path.write_text(yaml.safe_dump(data))
    return isolated_app


def _data(outcome_stdout: str) -> dict:
    return json.loads(outcome_stdout)["data"]


def test_cluster_life_cycle(private_cluster_app: AppContext) -> None:
    app = private_cluster_app
    try:
        created = invoke(app, "local", "cluster", "up", "-o", "json")
        assert created.exit_code == 0, created.stderr
        data = _data(created.stdout)
        assert (data["action"], data["healthy"]) == ("created", True)
        assert sorted(n["zone"] for n in data["nodes"]) == ["eu-west-1a", "eu-west-1b"]
        assert (app.state_dir / "cluster" / "kubeconfig").is_file()

        assert (
            _data(invoke(app, "local", "cluster", "up", "-o", "json").stdout)["action"] == "reused"
        )

        stopped = invoke(app, "local", "cluster", "down", "-o", "json")
        assert _data(stopped.stdout)["outcome"] == "stopped"
        status = invoke(app, "local", "cluster", "status", "-o", "json")
        assert status.exit_code == ExitCode.CHECK_FAILED
        assert not any(c["running"] for c in _data(status.stdout)["components"])

        restarted = invoke(app, "local", "cluster", "up", "-o", "json")
        assert (_data(restarted.stdout)["action"], restarted.exit_code) == ("started", 0)
    finally:
        deleted = invoke(app, "local", "cluster", "down", "--delete", "-o", "json")
    assert _data(deleted.stdout)["outcome"] == "deleted"
    absent = invoke(app, "local", "cluster", "status", "-o", "json")
    assert (absent.exit_code, _data(absent.stdout)["action"]) == (ExitCode.CHECK_FAILED, "absent")


def test_cluster_commands_refuse_a_remote_environment(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "local", "cluster", "status", "--env", "prod")
    assert outcome.exit_code == ExitCode.USAGE
    assert "environment 'prod' targets kubernetes" in outcome.stderr
