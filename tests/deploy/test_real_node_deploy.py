"""`hyperscale deploy --env sandbox` onto the real node: the project's own images, pulled from the
local registry, Ready through their own readiness probes (the API's /readyz asks MariaDB, Redis
and Kafka, which the pods reach at the host's 127.0.0.1 through the node's loopback plugin); then
`hyperscale smoke` through the API Service (a NodePort kube-proxy serves on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import random
import socket
import subprocess
from typing import Any

import pytest
import yaml
from lightkube.resources.autoscaling_v2 import HorizontalPodAutoscaler
from lightkube.resources.core_v1 import Pod

from tests.conftest import invoke
from tests.deploy.conftest import KubeDeployEnv
from tests.images.seed import seed_image
from tests.support import pod_ready, wait_for

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
        # The HPA may scale in as soon as the load is gone (the HPA test below).
        "api": {
            "min_replicas": 1,
            "max_replicas": 3,
            "cpu_request": "100m",
            "scale_down_window_s": 0,
        },
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
    # Its own Kafka login (the broker's SCRAM listener, where only ACLs grant anything), its
    # password only in its own mounted Secret: /readyz and the smoke below go through them.
    service = workload.removeprefix("platform-")
    variables = {e.name: e.value for e in pod.spec.containers[0].env or []}
    assert variables["KAFKA_SASL_USERNAME"] == f"hyperscale-{service}"
    assert f"platform-kafka-{service}" in {
        v.secret.secretName for v in pod.spec.volumes if v.secret
    }


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


#: wrk's load on the API, bounded: it stops by itself after this long at the latest.
LOAD_S = 60


def test_the_api_hpa_scales_out_under_load_and_back_in_after_it(
    real_deploy: dict[str, Any], kdeploy: KubeDeployEnv, kube: Any
) -> None:
    """metrics-server reads the real node's kubelet: `kubectl top` shows the API pod, and the
    HPA (CPU, 65 % of a 100m request) sees its utilisation. Under a bounded wrk load on the API
    Service's NodePort it raises the replicas; once the load stops it lowers them again (this
    module deploys with a scale-down window of 0 s)."""
    namespace = kdeploy.namespace
    top = wait_for(lambda: _top(kdeploy, "platform-api-"), 120, "kubectl top to show the API pod")
    assert top[0][1].endswith("m")  # CPU in millicores, measured
    # `cluster status` shows the same figures for the node and each of its pods. metrics-server
    # measures the node and its pods separately (a node point it finds invalid is dropped until
    # the next scrape), so the node's figure may come a scrape after the pod's.
    node = wait_for(
        lambda: _real_node_measured(kdeploy, top[0][0]),
        120,
        "`cluster status` to show the node's usage",
    )
    assert node["cpu_millicores"] > 0, node
    assert node["memory_mib"] > 0, node
    (api_pod,) = [p for p in node["pods"] if p["name"] == top[0][0]]
    assert api_pod["memory_mib"] > 10, api_pod  # a Python server's resident memory
    assert api_pod["cpu_millicores"] is not None, api_pod
    wait_for(lambda: _utilisation(kube, namespace) is not None, 120, "the HPA's first reading")
    assert _desired(kube, namespace) == 1

    api_url = yaml.safe_load((kdeploy.app.environments_dir / "sandbox.yaml").read_text())[
        "services"
    ]["api_url"]
    load = subprocess.Popen(
        ["wrk", "-t1", "-c16", f"-d{LOAD_S}s", "--timeout", "5s", f"{api_url}/hello"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        peak = wait_for(
            lambda: (n := _desired(kube, namespace)) > 1 and n,
            LOAD_S,
            "the HPA to scale the API out under load",
            interval=1,
        )
        wait_for(
            lambda: len([p for p in _pods(kube, namespace, "platform-api-") if pod_ready(p)]) >= 2,
            LOAD_S,
            "a second API pod Ready on the real node",
            interval=1,
        )
    finally:
        load.terminate()
        load.communicate(timeout=30)
    assert 1 < peak <= 3

    low = wait_for(
        lambda: (n := _desired(kube, namespace)) < peak and n,
        240,
        "the HPA to scale the API back in after the load",
        interval=1,
    )
    assert 1 <= low < peak


def _hpa(kube: Any, namespace: str) -> Any:
    return kube.get(HorizontalPodAutoscaler, "platform-api", namespace=namespace)


def _desired(kube: Any, namespace: str) -> int:
    return int(_hpa(kube, namespace).status.desiredReplicas)


def _utilisation(kube: Any, namespace: str) -> int | None:
    for metric in _hpa(kube, namespace).status.currentMetrics or []:
        if metric.resource is not None and metric.resource.name == "cpu":
            value: int | None = metric.resource.current.averageUtilization
            return value
    return None


def _real_node_measured(kdeploy: KubeDeployEnv, pod: str) -> dict[str, Any] | None:
    """The real node as `cluster status -o json` shows it, once metrics-server measured both it
    and its pod ``pod``."""
    status = invoke(kdeploy.app, "local", "cluster", "status", "-o", "json")
    assert status.exit_code == 0, status.stdout + status.stderr
    node: dict[str, Any] = json.loads(status.stdout)["data"]["real_node"]
    measured = [p for p in node["pods"] if p["name"] == pod and p["cpu_millicores"] is not None]
    return node if node["cpu_millicores"] is not None and measured else None


def _top(kdeploy: KubeDeployEnv, prefix: str) -> list[list[str]]:
    """`kubectl top pod` rows (name, CPU, memory) of pods whose name starts with ``prefix``."""
    done = subprocess.run(
        [*kdeploy.kubectl, "top", "pod", "--no-headers"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return [row.split() for row in done.stdout.splitlines() if row.startswith(prefix)]
