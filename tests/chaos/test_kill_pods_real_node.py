"""`hyperscale chaos kill-pods` against pods that really run (the sandbox's real node): the
evicted pod's process really ends, its replacement really starts and turns Ready through a
real HTTP readiness probe, and the drill's recovery time agrees with an independent watch."""

from __future__ import annotations

import json
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from lightkube import codecs
from lightkube.resources.core_v1 import Pod
from lightkube.resources.policy_v1 import PodDisruptionBudget

from hyperscale.context import AppContext
from tests.conftest import REAL_NODE_PLACEMENT, api_image, invoke
from tests.support import pod_ready, wait_for

pytestmark = [pytest.mark.k8s, pytest.mark.registry, pytest.mark.containers]

REPLICAS = 2
LABELS = {"app": "real-web"}


@pytest.fixture
def drill_app(shared_app: AppContext, namespace: str, tmp_path: Path) -> AppContext:
    environments = tmp_path / "environments"
    shutil.copytree(shared_app.environments_dir, environments)
    path = environments / "sandbox.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["target"]["namespace"] = namespace
    data["chaos"].update(allowed_namespaces=[namespace], max_pods_per_drill=1)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return AppContext(
        state_dir=shared_app.state_dir,
        cache_dir=shared_app.cache_dir,
        environments_dir=environments,
        environ={},
    )


@pytest.fixture
def web(real_node: str, kube: Any, namespace: str, built: dict[str, Any]) -> str:
    """Two replicas of a real HTTP server (Python's, from the API image) on the real node,
    behind a PDB that keeps one; all Ready through their HTTP readiness probe."""
    container = {
        "name": "web",
        "image": api_image(built),
        "command": ["python", "-m", "http.server", "8080", "--directory", "/usr"],
        "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
    }
    kube.apply(
        codecs.from_dict(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "real-web", "namespace": namespace, "labels": LABELS},
                "spec": {
                    "replicas": REPLICAS,
                    "selector": {"matchLabels": LABELS},
                    "template": {
                        "metadata": {"labels": LABELS},
                        "spec": {
                            **REAL_NODE_PLACEMENT,
                            "terminationGracePeriodSeconds": 5,
                            "containers": [container],
                        },
                    },
                },
            }
        )
    )
    kube.apply(
        codecs.from_dict(
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "real-web", "namespace": namespace},
                "spec": {"minAvailable": 1, "selector": {"matchLabels": LABELS}},
            }
        )
    )

    def settled() -> bool:
        pdb = kube.get(PodDisruptionBudget, "real-web", namespace=namespace)
        ready = [p for p in kube.list(Pod, namespace=namespace) if pod_ready(p)]
        return bool(len(ready) == REPLICAS and pdb.status and pdb.status.currentHealthy == REPLICAS)

    wait_for(settled, 180, "two real pods Ready and the PDB observed")
    return namespace


def _container_pids(kube: Any, namespace: str) -> dict[str, int]:
    """Pod name -> the host pid of its container's process (found by its cgroup, which holds
    the container's id: the cgroupfs driver names the cgroup after it)."""
    wanted = {}
    for pod in kube.list(Pod, namespace=namespace, labels=LABELS):
        for status in pod.status.containerStatuses or []:
            if status.containerID:
                wanted[status.containerID.split("://", 1)[1]] = pod.metadata.name
    found: dict[str, int] = {}
    for proc in psutil.process_iter(["pid", "ppid"]):
        try:
            cgroups = Path(f"/proc/{proc.pid}/cgroup").read_text(encoding="utf-8")
        except OSError:
            continue
        for container, pod_name in wanted.items():
            if container in cgroups and pod_name not in found:
                found[pod_name] = proc.pid
    return found


def test_kill_pods_ends_a_real_process_and_the_replacement_turns_ready(
    kube: Any, web: str, drill_app: AppContext
) -> None:
    before = _container_pids(kube, web)
    assert len(before) == REPLICAS, before
    gone_at: dict[str, float] = {}
    ready_at: dict[str, float] = {}
    stop, started = threading.Event(), threading.Event()

    def watch() -> None:
        listed = kube.list(Pod, namespace=web, labels=LABELS)
        _ = list(listed)  # the list's resourceVersion is known once it has been read
        version = listed.resourceVersion
        started.set()
        while not stop.is_set():
            for event, pod in kube.watch(
                Pod, namespace=web, labels=LABELS, server_timeout=2, resource_version=version
            ):
                now, name = time.monotonic(), pod.metadata.name
                version = pod.metadata.resourceVersion
                if name in before and (event == "DELETED" or pod.metadata.deletionTimestamp):
                    gone_at.setdefault(name, now)
                if name not in before and event != "DELETED" and pod_ready(pod):
                    ready_at.setdefault(name, now)
                if stop.is_set():
                    return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert started.wait(10)
        outcome = invoke(
            drill_app,
            "chaos",
            "kill-pods",
            "--env",
            "sandbox",
            *("-n", web, "-l", "app=real-web", "--count", "1", "-o", "json"),
        )
        wait_for(lambda: ready_at, 120, "the watch to see the replacement Ready")
    finally:
        stop.set()

    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "ok", report["checks"]
    drill = [v for k, v in report["measurements"].items() if k.startswith("recovery_s.")]
    killed = [name for name in before if name in gone_at]
    assert len(killed) == 1
    # The evicted pod's process is really gone; the other one still runs, untouched.
    wait_for(lambda: not psutil.pid_exists(before[killed[0]]), 30, "the evicted process to end")
    survivor = next(name for name in before if name not in gone_at)
    assert psutil.pid_exists(before[survivor])
    replacement = next(iter(ready_at))
    assert _container_pids(kube, web).get(replacement), "the replacement runs a process"
    independent = ready_at[replacement] - gone_at[killed[0]]
    print(f"recovery by kill-pods {drill}, by the independent watch {independent:.2f}s")
    assert len(drill) == 1
    # The same event seen twice: the drill's own measure and the watch agree (not a speed bound).
    assert abs(drill[0] - independent) < 3.0, (drill, independent)
