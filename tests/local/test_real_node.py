"""The sandbox's real node: containerd and a kubelet beside kwok's nodes, pods that really run.

Every check here is one kwok could not fake: an image really pulled from the local registry, a
process that really exits and is really restarted, and a `cluster down` after which the
machine itself (its mount table, its interfaces, its processes) shows nothing left.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import psutil
import pytest
from lightkube import ApiError, codecs
from lightkube.resources.core_v1 import Node, Pod

from hyperscale.clients.kube_api import KubeApi
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local.cluster import core as cluster_core
from hyperscale.local.cluster.node_files import REAL_NODE_LABEL, REAL_NODE_TAINT
from tests.conftest import REAL_NODE_PLACEMENT, Sandbox, api_image, invoke
from tests.support import wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.registry, pytest.mark.containers]


def _pod(namespace: str, image: str, **container: Any) -> Any:
    name = f"p-{uuid.uuid4().hex[:8]}"
    return codecs.from_dict(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                **REAL_NODE_PLACEMENT,
                "terminationGracePeriodSeconds": 2,
                "containers": [{"name": "main", "image": image, **container}],
            },
        }
    )


def _container_state(kube: Any, namespace: str, name: str) -> Any:
    pod = kube.get(Pod, name, namespace=namespace)
    statuses = pod.status.containerStatuses or [] if pod.status else []
    return statuses[0] if statuses else None


def test_the_real_node_registers_beside_kwoks_nodes(
    real_node: str, kube: Any, shared_app: AppContext
) -> None:
    node = kube.get(Node, real_node)
    assert node.status.nodeInfo.kubeletVersion == "v1.34.12"
    assert node.status.nodeInfo.containerRuntimeVersion.startswith("containerd://")
    assert node.metadata.labels[REAL_NODE_LABEL] == "real"
    assert [(t.key, t.effect) for t in node.spec.taints or []] == [(REAL_NODE_TAINT, "NoSchedule")]
    assert "kwok.x-k8s.io/node" not in (node.metadata.annotations or {})

    outcome = invoke(shared_app, "local", "cluster", "status", "-o", "json")
    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    assert data["real_node"]["name"] == real_node
    assert data["real_node"]["ready"] is True
    assert data["real_node"]["kubelet_pid"]
    assert data["real_node"]["containerd_pid"]
    assert data["real_node"]["kube_proxy_pid"]
    kwok_nodes = [n for n in data["nodes"] if n["name"] != real_node]
    assert sorted(n["zone"] for n in kwok_nodes if n["ready"]) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]


def test_the_api_image_is_pulled_from_the_local_registry_and_runs(
    real_node: str, kube: Any, namespace: str, built: dict[str, Any], shared_app: AppContext
) -> None:
    image = api_image(built)
    pod = _pod(
        namespace, image, command=["python", "-c", "import platform_api, time; time.sleep(600)"]
    )
    kube.create(pod)
    name = pod.metadata.name

    def running() -> bool:
        state = _container_state(kube, namespace, name)
        return bool(state and state.state.running)

    wait_for(running, 180, "the API image's container to run on the real node")
    found = kube.get(Pod, name, namespace=namespace)
    assert found.spec.nodeName == real_node
    assert found.status.podIP
    assert not found.status.podIP.startswith("127.")
    assert found.status.containerStatuses[0].imageID.endswith(image.rsplit("@", 1)[1])

    outcome = invoke(shared_app, "local", "cluster", "status", "-o", "json")
    pods = json.loads(outcome.stdout)["data"]["real_node"]["pods"]
    assert {"namespace": namespace, "name": name} in [
        {"namespace": p["namespace"], "name": p["name"]} for p in pods
    ]


def test_a_container_that_exits_non_zero_goes_into_crash_loop_back_off(
    real_node: str, kube: Any, namespace: str, built: dict[str, Any], sandbox: Sandbox
) -> None:
    command = ["python", "-c", "print('about to fail', flush=True); raise SystemExit(3)"]
    pod = _pod(namespace, api_image(built), command=command)
    kube.create(pod)

    def backing_off() -> bool:
        state = _container_state(kube, namespace, pod.metadata.name)
        waiting = state.state.waiting if state else None
        return bool(waiting and waiting.reason == "CrashLoopBackOff" and state.restartCount >= 1)

    wait_for(backing_off, 120, "CrashLoopBackOff")
    state = _container_state(kube, namespace, pod.metadata.name)
    assert state.lastState.terminated.exitCode == 3
    # Its output, through the API server from the kubelet: what a failed deploy shows.
    with KubeApi(sandbox.kubeconfig, sandbox.context) as api:
        logged = api.pod_log(namespace, pod.metadata.name, "main", 20)
    assert "about to fail" in logged, logged


def _iptables_save(table: str) -> str:
    return subprocess.run(
        ["iptables", "-t", table, "-S"], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def _mounts_under(path: Path) -> list[str]:
    root = str(path.resolve())
    lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    return [p for p in (line.split()[4] for line in lines) if p == root or p.startswith(root + "/")]


def test_down_leaves_no_container_mount_or_interface_behind(
    real_node: str,
    kube: Any,
    namespace: str,
    built: dict[str, Any],
    shared_app: AppContext,
    local_env: Environment,
) -> None:
    pod = _pod(namespace, api_image(built), command=["sleep", "600"])
    kube.create(pod)
    wait_for(
        lambda: (s := _container_state(kube, namespace, pod.metadata.name)) and s.state.running,
        180,
        "a container to run",
    )
    node_home = shared_app.state_dir / "cluster" / "node"
    socket = str(node_home / "containerd" / "containerd.sock")
    bridge = local_env.runtime.cluster.real_node.bridge
    assert _mounts_under(node_home), "a running pod has mounts (its netns, its volumes)"
    assert Path("/sys/class/net", bridge).exists()

    down = cluster_core.real_node_down(local_env, shared_app)

    assert down is not None
    assert down.clean, down
    assert _mounts_under(node_home) == []
    assert not Path("/sys/class/net", bridge).exists()
    attached = [
        link.parent.name
        for link in Path("/sys/class/net").glob("*/master")
        if link.readlink().name == bridge
    ]
    assert attached == []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        assert socket not in cmdline, f"left running: {cmdline}"
        assert not any(str(node_home) in arg for arg in cmdline), f"left running: {cmdline}"
    # kube-proxy's rules are gone too, and the route_localnet it needed is as it was before.
    assert "KUBE-SERVICES" not in _iptables_save("nat")
    assert "KUBE-FIREWALL" not in _iptables_save("filter")
    with pytest.raises(ApiError):
        kube.get(Node, real_node)  # the Node object is deleted with it
