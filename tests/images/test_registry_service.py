"""`hyperscale local up|status|down registry`: the registry as one more local service."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import yaml

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.support import free_port

pytestmark = pytest.mark.registry


@pytest.fixture
def registry_app(isolated_app: AppContext) -> Iterator[AppContext]:
    """The local environment with the registry on a free port and its own state directory."""
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["local"]["registry_port"] = free_port()
    path.write_text(yaml.safe_dump(data))
    yield isolated_app
    invoke(isolated_app, "local", "down", "registry")


def _registry(stdout: str) -> dict[str, object]:
    (service,) = json.loads(stdout)["data"]["services"]
    assert isinstance(service, dict)
    return service


def test_registry_life_cycle_on_loopback(registry_app: AppContext) -> None:
    # A pid file left by a crash is cleaned up, not mistaken for a running registry.
    run_dir = registry_app.state_dir / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "registry.pid").write_text(json.dumps({"pid": 2**22 - 3, "create_time": 1.0}))

    up = invoke(registry_app, "local", "up", "registry", "-o", "json")
    assert up.exit_code == 0, up.stderr
    started = _registry(up.stdout)
    assert started["state"] == "started"
    assert started["stale_pid_cleaned"] is True
    assert str(started["address"]).startswith("127.0.0.1:")
    assert "registry/2.0" in str(started["detail"])
    config = yaml.safe_load((registry_app.state_dir / "services/registry/config.yml").read_text())
    assert config["storage"]["delete"]["enabled"] is True
    assert config["http"]["addr"] == started["address"]

    again = _registry(invoke(registry_app, "local", "up", "registry", "-o", "json").stdout)
    assert (again["state"], again["pid"]) == ("reused", started["pid"])

    invoke(registry_app, "local", "down", "registry")
    status = invoke(registry_app, "local", "status", "registry")
    assert status.exit_code == ExitCode.CHECK_FAILED
    assert "stopped" in status.stdout
