"""Pods for chaos drills: list them as plain facts, evict them (a budget may refuse: HTTP 429),
or delete them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hyperscale.clients.kube_api import ApiTooManyRequestsError, KubeApi


@dataclass(frozen=True)
class PodFacts:
    name: str
    namespace: str
    uid: str
    #: The Deployment (or other owner) it belongs to; the pod's own name when it has none.
    owner: str
    ready: bool
    created_at: float | None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetFacts:
    name: str
    match_labels: dict[str, str]
    allowed_disruptions: int
    current_healthy: int
    desired_healthy: int


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _owner(pod: dict[str, Any]) -> str:
    meta = pod["metadata"]
    owners = meta.get("ownerReferences") or []
    if not owners:
        return str(meta["name"])
    name = str(owners[0]["name"])
    template_hash = (meta.get("labels") or {}).get("pod-template-hash")
    if owners[0].get("kind") == "ReplicaSet" and template_hash:
        return name.removesuffix(f"-{template_hash}")  # the ReplicaSet's Deployment
    return name


def _ready(pod: dict[str, Any]) -> bool:
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp") or status.get("phase") != "Running":
        return False
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )


def list_pods(api: KubeApi, namespace: str, selector: str | None) -> list[PodFacts]:
    """The pods not yet being deleted, oldest first."""
    pods = api.list_objects("v1", "Pod", namespace, labels=selector)
    facts = [
        PodFacts(
            name=p["metadata"]["name"],
            namespace=namespace,
            uid=p["metadata"]["uid"],
            owner=_owner(p),
            ready=_ready(p),
            created_at=_epoch(p["metadata"].get("creationTimestamp")),
            labels=dict(p["metadata"].get("labels") or {}),
        )
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
    ]
    return sorted(facts, key=lambda f: (f.created_at or 0.0, f.name))


def list_budgets(api: KubeApi, namespace: str) -> list[BudgetFacts]:
    found = []
    for pdb in api.list_objects("policy/v1", "PodDisruptionBudget", namespace):
        status = pdb.get("status") or {}
        found.append(
            BudgetFacts(
                name=pdb["metadata"]["name"],
                match_labels=dict((pdb["spec"].get("selector") or {}).get("matchLabels") or {}),
                allowed_disruptions=int(status.get("disruptionsAllowed", 0)),
                current_healthy=int(status.get("currentHealthy", 0)),
                desired_healthy=int(status.get("desiredHealthy", 0)),
            )
        )
    return found


def evict_pod(api: KubeApi, namespace: str, name: str, uid: str) -> bool:
    """Ask for an eviction of that very pod (uid precondition); True when it was granted,
    False when a disruption budget refused it (HTTP 429: try again later)."""
    body = {
        "apiVersion": "policy/v1",
        "kind": "Eviction",
        "metadata": {"name": name, "namespace": namespace},
        "deleteOptions": {"preconditions": {"uid": uid}},
    }
    try:
        api.post(f"/api/v1/namespaces/{namespace}/pods/{name}/eviction", body, missing_ok=True)
    except ApiTooManyRequestsError:
        return False
    return True


def delete_pod(api: KubeApi, namespace: str, name: str, grace_seconds: int) -> bool:
    """Delete it with a grace period; False when it was already gone."""
    return api.delete("v1", "Pod", name, namespace, grace_seconds=grace_seconds)
