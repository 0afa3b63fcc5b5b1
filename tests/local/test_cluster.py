"""The sandbox cluster is a real control plane: apply, rollout, replacement, PDB, Jobs, kubectl.

Nodes and pods are simulated by kwok (no container runtime can run here); everything else —
etcd, kube-apiserver, the controller manager's controllers and the scheduler — is the real
Kubernetes v1.34 code.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from lightkube import ApiError, codecs
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.batch_v1 import CronJob, Job
from lightkube.resources.core_v1 import Node, Pod
from lightkube.resources.policy_v1 import PodDisruptionBudget

from hyperscale.context import AppContext
from tests.conftest import Sandbox, invoke
from tests.support import wait_for

pytestmark = pytest.mark.k8s

ZONE = "topology.kubernetes.io/zone"


def deployment(namespace: str, replicas: int = 3, name: str = "web") -> Any:
    return codecs.from_dict(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": name}},
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
                },
                "template": {
                    "metadata": {"labels": {"app": name}},
                    "spec": {
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": ZONE,
                                "whenUnsatisfiable": "DoNotSchedule",
                                "labelSelector": {"matchLabels": {"app": name}},
                            }
                        ],
                        "containers": [{"name": name, "image": "registry.example.com/web:1"}],
                    },
                },
            },
        }
    )


def rolled_out(kube: Any, namespace: str, name: str, replicas: int) -> bool:
    dep = kube.get(Deployment, name, namespace=namespace)
    status = dep.status
    return bool(
        status
        and status.observedGeneration == dep.metadata.generation
        and status.updatedReplicas == replicas
        and status.availableReplicas == replicas
        and status.readyReplicas == replicas
    )


def ready_pods(kube: Any, namespace: str, app: str) -> list[Any]:
    pods = kube.list(Pod, namespace=namespace, labels={"app": app})
    return [
        p
        for p in pods
        if p.metadata.deletionTimestamp is None
        and p.status.phase == "Running"
        and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
    ]


def test_server_side_apply_rolls_out_across_the_zones(kube: Any, namespace: str) -> None:
    kube.apply(deployment(namespace))
    wait_for(lambda: rolled_out(kube, namespace, "web", 3), 60, "the rollout to complete")

    zones = {n.metadata.name: n.metadata.labels[ZONE] for n in kube.list(Node)}
    placed = [zones[p.spec.nodeName] for p in ready_pods(kube, namespace, "web")]
    assert sorted(placed) == sorted(set(zones.values()))  # one pod per zone


def test_a_second_field_manager_gets_a_conflict(kube: Any, namespace: str) -> None:
    kube.apply(deployment(namespace))
    with pytest.raises(ApiError) as caught:
        kube.apply(deployment(namespace, replicas=5), field_manager="another-team")
    assert caught.value.status.code == 409
    assert ".spec.replicas" in caught.value.status.message
    assert kube.get(Deployment, "web", namespace=namespace).spec.replicas == 3


def test_a_deleted_pod_is_replaced_by_a_ready_one(kube: Any, namespace: str) -> None:
    kube.apply(deployment(namespace))
    wait_for(lambda: rolled_out(kube, namespace, "web", 3), 60, "the rollout to complete")
    victim = ready_pods(kube, namespace, "web")[0].metadata.name
    kube.delete(Pod, victim, namespace=namespace)

    def replaced() -> bool:
        names = [p.metadata.name for p in ready_pods(kube, namespace, "web")]
        return len(names) == 3 and victim not in names

    wait_for(replaced, 60, "a ready replacement pod")


def _pdb(namespace: str, min_available: int) -> Any:
    return codecs.from_dict(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "web", "namespace": namespace},
            "spec": {"minAvailable": min_available, "selector": {"matchLabels": {"app": "web"}}},
        }
    )


def _pdb_observed(kube: Any, namespace: str, healthy: int) -> bool:
    pdb = kube.get(PodDisruptionBudget, "web", namespace=namespace)
    return bool(
        pdb.status
        and pdb.status.observedGeneration == pdb.metadata.generation
        and pdb.status.currentHealthy == healthy
    )


def _evict(kube: Any, namespace: str, pod: str) -> None:
    eviction = Pod.Eviction(metadata=ObjectMeta(name=pod, namespace=namespace))
    kube.create(eviction, name=pod, namespace=namespace)


def test_pdb_without_headroom_refuses_eviction_with_429(kube: Any, namespace: str) -> None:
    kube.apply(deployment(namespace))
    wait_for(lambda: rolled_out(kube, namespace, "web", 3), 60, "the rollout to complete")
    kube.apply(_pdb(namespace, min_available=3))
    wait_for(lambda: _pdb_observed(kube, namespace, 3), 60, "the disruption controller")

    pod = ready_pods(kube, namespace, "web")[0].metadata.name
    with pytest.raises(ApiError) as caught:
        _evict(kube, namespace, pod)
    assert caught.value.status.code == 429
    assert "disruption budget" in caught.value.status.message


def test_pdb_with_headroom_allows_one_eviction(kube: Any, namespace: str) -> None:
    kube.apply(deployment(namespace))
    wait_for(lambda: rolled_out(kube, namespace, "web", 3), 60, "the rollout to complete")
    kube.apply(_pdb(namespace, min_available=2))
    wait_for(lambda: _pdb_observed(kube, namespace, 3), 60, "the disruption controller")

    pod = ready_pods(kube, namespace, "web")[0].metadata.name
    _evict(kube, namespace, pod)  # refused (429) would raise: the budget allowed it
    try:  # being deleted, or, as kwok finishes deletions at once, already gone
        going = kube.get(Pod, pod, namespace=namespace).metadata.deletionTimestamp is not None
    except ApiError as exc:
        going = exc.status.code == 404
    assert going


def test_a_job_triggered_from_a_cronjob_completes(kube: Any, namespace: str) -> None:
    cron = kube.apply(
        codecs.from_dict(
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "report", "namespace": namespace},
                "spec": {
                    "schedule": "0 7 * * 1-5",
                    "jobTemplate": {
                        "spec": {
                            "template": {
                                "spec": {
                                    "restartPolicy": "Never",
                                    "containers": [
                                        {"name": "report", "image": "registry.example.com/report:1"}
                                    ],
                                }
                            }
                        }
                    },
                },
            }
        )
    )
    # What `kubectl create job --from=cronjob/report` does: the CronJob's template, owned by it.
    job = codecs.from_dict(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": "report-manual",
                "namespace": namespace,
                "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "CronJob",
                        "name": "report",
                        "uid": cron.metadata.uid,
                        "controller": True,
                    }
                ],
            },
            "spec": kube.get(
                CronJob, "report", namespace=namespace
            ).spec.jobTemplate.spec.to_dict(),
        }
    )
    kube.create(job)

    def succeeded() -> bool:
        status = kube.get(Job, "report-manual", namespace=namespace).status
        return bool(status and status.succeeded == 1)

    wait_for(succeeded, 60, "the job to complete")
    pods = kube.list(Pod, namespace=namespace, labels={"job-name": "report-manual"})
    assert [p.status.phase for p in pods] == ["Succeeded"]


def test_kubectl_talks_to_the_cluster_with_the_written_kubeconfig(sandbox: Sandbox) -> None:
    done = subprocess.run(
        [
            str(sandbox.bin_dir / "kubectl"),
            "--kubeconfig",
            str(sandbox.kubeconfig),
            "--context",
            sandbox.context,
            "get",
            "nodes",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    nodes = json.loads(done.stdout)["items"]
    assert len(nodes) == 3
    assert {n["metadata"]["labels"][ZONE] for n in nodes} == {
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    }
    assert all(
        any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"])
        for n in nodes
    )


def test_status_reports_components_version_and_nodes(
    sandbox: Sandbox, shared_app: AppContext
) -> None:
    outcome = invoke(shared_app, "local", "cluster", "status", "-o", "json")
    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    assert data["healthy"] is True
    assert data["server_version"] == "v1.34.12"
    assert [c["name"] for c in data["components"] if c["running"]] == [
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok-controller",
        "metrics-server",
    ]
    assert data["api_server"].startswith("https://127.0.0.1:")
    assert sorted(n["zone"] for n in data["nodes"] if n["ready"]) == [
        "us-east-1a",
        "us-east-1b",
        "us-east-1c",
    ]


def test_metrics_server_serves_the_resource_metrics_api(kube: Any) -> None:
    """Registered through the aggregation layer, and reachable: the API server proxies to it.
    It reads the real node only (tests/deploy/test_real_node_deploy.py shows real figures), so
    kwok's nodes are not listed."""
    from lightkube.generic_resource import create_global_resource
    from lightkube.resources.apiregistration_v1 import APIService

    def available() -> bool:
        conditions = kube.get(APIService, "v1beta1.metrics.k8s.io").status.conditions or []
        return [(c.type, c.status) for c in conditions] == [("Available", "True")]

    # The API server checks an aggregated API's availability every few seconds.
    wait_for(available, 60, "the metrics API to be available")
    node_metrics = create_global_resource("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes")
    names = [item.metadata.name for item in kube.list(node_metrics)]
    assert not [name for name in names if not name.endswith("-real")]


def test_sandbox_environment_targets_the_cluster(sandbox: Sandbox, shared_app: AppContext) -> None:
    from hyperscale.config.loader import load_environment

    env = load_environment(shared_app, "sandbox")
    assert env.target.kubeconfig is not None
    assert shared_app.expand_path(env.target.kubeconfig) == sandbox.kubeconfig
    assert env.target.context == sandbox.context
