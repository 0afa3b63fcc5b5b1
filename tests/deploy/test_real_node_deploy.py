"""`hyperscale deploy --env sandbox` onto the real node: the project's own images, pulled from the
local registry, Ready through their own readiness probes (the API's /readyz asks MariaDB, Redis
and Kafka, which the pods reach at the host's 127.0.0.1 through the node's loopback plugin); then
`hyperscale smoke` through the API Service (a NodePort kube-proxy serves on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
from typing import Any

import pytest
import yaml
from lightkube.resources.core_v1 import Pod

from tests.conftest import invoke
from tests.deploy.conftest import KubeDeployEnv
from tests.images.seed import seed_image

pytestmark = [pytest.mark.k8s, pytest.mark.registry, pytest.mark.services, pytest.mark.containers]


@pytest.fixture(scope="module")
def real_deploy(kdeploy: KubeDeployEnv, real_node: str, built: dict[str, Any]) -> dict[str, Any]:
    """The module's sandbox placed on the real node (one replica each), deployed with the
    session's images; the deploy's JSON data."""
    path = kdeploy.app.environments_dir / "sandbox.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # kube-proxy serves the API Service's NodePort there, on the host's loopback.
    data["services"]["api_url"] = f"http://127.0.0.1:{_free_node_port()}"
    data["kubernetes"] = {
        "placement": "real-node",
        "api": {"min_replicas": 1, "max_replicas": 3, "cpu_request": "100m"},
        "consumer": {"min_replicas": 1, "max_replicas": 2, "cpu_request": "100m"},
    }
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    api = next(image for image in built["images"] if image["name"] == "api")
    tag = api["ref"].rsplit(":", 1)[1]
    # The CronJobs' CLI image is pinned too but never runs here: a small stand-in under the tag.
    seed_image(kdeploy.registry, "hyperscale/cli", [tag], dt.datetime.now(dt.UTC))
    outcome = invoke(
        kdeploy.app,
        "deploy",
        "--env",
        "sandbox",
        "--image-tag",
        tag,
        "--timeout",
        "5m",
        "-o",
        "json",
    )
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    result: dict[str, Any] = json.loads(outcome.stdout)["data"]
    return result


def _free_node_port() -> int:
    """A port of the NodePort range (30000-32767) nothing on this machine listens on."""
    for port in random.sample(range(30000, 32768), 200):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError("no free port in the NodePort range")


def _pods(kube: Any, namespace: str, prefix: str) -> list[Any]:
    return [
        p
        for p in kube.list(Pod, namespace=namespace)
        if p.metadata.name.startswith(prefix) and p.metadata.deletionTimestamp is None
    ]


@pytest.mark.parametrize("workload", ["platform-api", "platform-consumer"])
def test_the_platform_runs_on_the_real_node_ready_through_its_own_probes(
    real_deploy: dict[str, Any], kdeploy: KubeDeployEnv, kube: Any, real_node: str, workload: str
) -> None:
    pods = _pods(kube, kdeploy.namespace, f"{workload}-")
    assert len(pods) == 1
    pod = pods[0]
    assert pod.spec.nodeName == real_node
    status = pod.status.containerStatuses[0]
    assert status.ready
    assert status.started
    assert status.state.running is not None
    # The image the deploy pinned, by digest, is the one the runtime pulled.
    assert status.imageID.rsplit("@", 1)[1] == pod.spec.containers[0].image.rsplit("@", 1)[1]
    probe = pod.spec.containers[0].readinessProbe
    assert probe.httpGet is not None  # a real HTTP probe the kubelet ran against the pod


def test_smoke_sends_orders_through_the_api_pod_and_finds_them_in_mysql(
    real_deploy: dict[str, Any], kdeploy: KubeDeployEnv
) -> None:
    outcome = invoke(kdeploy.app, "smoke", "--env", "sandbox", "-o", "json")
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    # Through kube-proxy's NodePort on loopback, the API pod, Kafka, the consumer pod, MariaDB.
    assert data["orders_accepted"] == data["orders_sent"] > 0
    assert data["orders_in_mysql"] == data["orders_sent"]
    assert data["campaign_counters"] == data["expected_counters"]
