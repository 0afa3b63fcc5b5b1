"""The real node's settings (local.cluster.real_node): a bad one is one line naming the key."""

from __future__ import annotations

import pytest
import yaml

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke


def _set_real_node(app: AppContext, **values: object) -> None:
    path = app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["local"]["cluster"]["real_node"].update(values)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_the_shipped_settings_give_every_port_and_a_private_pod_range(
    isolated_app: AppContext,
) -> None:
    node = load_environment(isolated_app, "local").runtime.cluster.real_node
    assert node.enabled is False
    assert len(set(node.ports.values())) == len(node.ports) == 5
    assert node.pod_cidr.startswith("10.")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"pod_cidr": "8.8.8.0/24"}, "must be a private IPv4 range of /16 or smaller"),
        ({"pod_cidr": "10.0.0.0/8"}, "must be a private IPv4 range of /16 or smaller"),
        ({"pod_cidr": "not-a-range"}, "pod_cidr"),
        ({"bridge": "a-bridge-name-too-long"}, "local.cluster.real_node.bridge"),
        ({"kubelet_port": 70000}, "local.cluster.real_node.kubelet_port"),
    ],
)
def test_a_bad_setting_names_the_key(
    isolated_app: AppContext, values: dict[str, object], expected: str
) -> None:
    _set_real_node(isolated_app, **values)
    with pytest.raises(ConfigError) as caught:
        load_environment(isolated_app, "local")
    assert expected in caught.value.message


def test_cluster_up_with_a_bad_setting_exits_2_before_starting_anything(
    isolated_app: AppContext,
) -> None:
    _set_real_node(isolated_app, pod_cidr="8.8.8.0/24")
    outcome = invoke(isolated_app, "local", "cluster", "up", "--real-node")
    assert outcome.exit_code == ExitCode.USAGE
    assert "pod_cidr" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) <= 2  # one line (and perhaps its hint)
    assert not (isolated_app.state_dir / "cluster").exists()
