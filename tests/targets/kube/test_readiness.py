"""Readiness like kstatus, and failures named from what the real controllers and kwok's
failure stages put in the API (templates/local/cluster/stages.yaml)."""

from __future__ import annotations

from typing import Any

import pytest

from hyperscale.clients.kube_api import KubeApi
from hyperscale.progress import Progress
from hyperscale.targets.kube.readiness import wait_for

pytestmark = pytest.mark.k8s


def deployment(namespace: str, name: str, image: str, replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "main", "image": image}]},
            },
        },
    }


def recorder() -> tuple[list[str], Progress]:
    lines: list[str] = []
    return lines, lines.append


def test_a_good_rollout_is_current_with_progress_per_workload(
    kube_api: KubeApi, namespace: str
) -> None:
    for name in ("one", "two"):
        kube_api.apply(deployment(namespace, name, "registry.example.com/web:1"))
    lines, progress = recorder()
    outcome = wait_for(kube_api, [(namespace, "one"), (namespace, "two")], 60, progress)
    assert outcome.ready, outcome.failure
    assert {(w.name, w.updated, w.ready, w.available) for w in outcome.workloads} == {
        ("one", 2, 2, 2),
        ("two", 2, 2, 2),
    }
    assert "one: updated 2/2, ready 2/2, available 2/2 (ready)" in lines
    assert "two: updated 2/2, ready 2/2, available 2/2 (ready)" in lines


def test_an_unknown_registry_host_is_named_image_pull_backoff(
    kube_api: KubeApi, namespace: str
) -> None:
    kube_api.apply(deployment(namespace, "pull", "registry.nowhere.invalid/web:1"))
    outcome = wait_for(kube_api, [(namespace, "pull")], 30, recorder()[1])
    failure = outcome.failure
    assert failure is not None
    assert (failure.workload, failure.reason) == (
        f"Deployment {namespace}/pull",
        "ImagePullBackOff",
    )
    assert failure.pod.startswith("pull-")
    assert any("Failed" in e and "pull" in e for e in failure.events), failure.events


def test_a_crashing_container_is_named_crash_loop_back_off(
    kube_api: KubeApi, namespace: str
) -> None:
    kube_api.apply(deployment(namespace, "crash", "registry.example.com/web:2-crashloop"))
    outcome = wait_for(kube_api, [(namespace, "crash")], 30, recorder()[1])
    failure = outcome.failure
    assert failure is not None
    assert failure.reason == "CrashLoopBackOff"
    assert any("BackOff" in e for e in failure.events)


def test_an_unschedulable_pod_is_named_after_its_grace(
    kube_api: KubeApi, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hyperscale.targets.kube import readiness

    monkeypatch.setattr(readiness, "UNSCHEDULABLE_GRACE_S", 0.0)  # no autoscaler here to wait for
    obj = deployment(namespace, "nowhere", "registry.example.com/web:1", replicas=1)
    obj["spec"]["template"]["spec"]["nodeSelector"] = {"topology.kubernetes.io/zone": "mars-1a"}
    kube_api.apply(obj)
    outcome = wait_for(kube_api, [(namespace, "nowhere")], 30, recorder()[1])
    assert outcome.failure is not None
    assert outcome.failure.reason == "Unschedulable"
    assert "node" in outcome.failure.message


def test_a_workload_not_ready_in_time_is_named_with_its_counts(
    kube_api: KubeApi, namespace: str
) -> None:
    obj = deployment(namespace, "slow", "registry.example.com/web:1", replicas=2)
    obj["spec"]["minReadySeconds"] = 300  # ready pods, never available within the wait
    kube_api.apply(obj)
    outcome = wait_for(kube_api, [(namespace, "slow")], 3, recorder()[1])
    assert outcome.failure is not None
    assert outcome.failure.reason == "Timeout"
    assert "slow: updated 2/2" in outcome.failure.message
    assert "available 0/2" in outcome.failure.message
