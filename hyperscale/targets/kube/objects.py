"""Plain-JSON Kubernetes objects as a deploy sees them: identity, waves, the deploy's label."""

from __future__ import annotations

import copy
from typing import Any

#: Every object a deploy applies carries this label (value: the environment); only objects
#: carrying it are ever pruned.
DEPLOY_LABEL = "hyperscale.dev/deploy"

#: Applied first: what the workloads need to exist (namespaces, CRDs, RBAC, config, services).
FIRST_WAVE = {
    "Namespace",
    "CustomResourceDefinition",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "ClusterSecretStore",
    "SecretStore",
    "ExternalSecret",
    "Service",
    "PriorityClass",
}
#: Then the workloads; everything else (HPA, PDB, ingress, network policies...) last.
WORKLOAD_WAVE = {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"}
WAVE_NAMES = ("namespaces, CRDs, RBAC and config", "workloads", "HPA, PDB, ingress and policies")
#: Kinds never pruned: deleting a namespace deletes everything in it.
NEVER_PRUNED = {"Namespace", "CustomResourceDefinition"}

Key = tuple[str, str, str, str]


def key(obj: dict[str, Any]) -> Key:
    """(apiVersion's group, kind, namespace, name): the object's identity across versions."""
    group = obj["apiVersion"].rpartition("/")[0]
    meta = obj.get("metadata", {})
    return (group, obj["kind"], meta.get("namespace") or "", meta["name"])


def describe(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata", {})
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj['kind']} {where}{meta['name']}"


def wave(obj: dict[str, Any]) -> int:
    if obj["kind"] in FIRST_WAVE:
        return 0
    return 1 if obj["kind"] in WORKLOAD_WAVE else 2


def in_waves(objects: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    waves: list[list[dict[str, Any]]] = [[], [], []]
    for obj in objects:
        waves[wave(obj)].append(obj)
    return waves


def labelled(obj: dict[str, Any], env_name: str) -> dict[str, Any]:
    """A copy carrying the deploy's label (what pruning selects on)."""
    out = copy.deepcopy(obj)
    out.setdefault("metadata", {}).setdefault("labels", {})[DEPLOY_LABEL] = env_name
    return out


def pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    """The pod template's spec of a workload (CronJob: its job's), None for other kinds."""
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = spec.get("template")
    if obj["kind"] not in WORKLOAD_WAVE or not isinstance(template, dict):
        return None
    found: dict[str, Any] | None = template.get("spec")
    return found


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(obj) or {}
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


def images(objects: list[dict[str, Any]]) -> dict[str, str]:
    """``Kind name/container`` -> image reference, for every workload container in ``objects``."""
    return {
        f"{o['kind']} {o['metadata']['name']}/{c['name']}": str(c.get("image", ""))
        for o in objects
        for c in containers(o)
    }
