"""Typed results about the real node: its state (processes, registration, pods) and what
`cluster down` did to it and found left."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hyperscale.clients.kube_api import Usage


@dataclass(frozen=True)
class PodOnNode:
    namespace: str
    name: str
    phase: str
    ready: bool
    restarts: int
    ip: str | None
    #: From metrics-server; None until it has measured the pod.
    usage: Usage | None = None


@dataclass(frozen=True)
class RealNodeState:
    name: str
    containerd_pid: int | None
    kubelet_pid: int | None
    kube_proxy_pid: int | None
    registered: bool
    ready: bool
    kubelet_version: str | None = None
    pods: list[PodOnNode] = field(default_factory=list)
    logs: str = ""
    usage: Usage | None = None

    @property
    def running(self) -> bool:
        return self.containerd_pid is not None and self.kubelet_pid is not None

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "containerd_pid": self.containerd_pid,
            "kubelet_pid": self.kubelet_pid,
            "kube_proxy_pid": self.kube_proxy_pid,
            "registered": self.registered,
            "ready": self.ready,
            "kubelet_version": self.kubelet_version,
            **_usage_data(self.usage),
            "pods": [
                {
                    "namespace": p.namespace,
                    "name": p.name,
                    "phase": p.phase,
                    "ready": p.ready,
                    "restarts": p.restarts,
                    "ip": p.ip,
                    **_usage_data(p.usage),
                }
                for p in self.pods
            ],
            "logs": self.logs,
        }


@dataclass(frozen=True)
class RealNodeDown:
    """What `cluster down` did to the real node, and what it found left afterwards."""

    name: str
    pods_drained: int
    containers_removed: int
    mounts_removed: int
    bridge_deleted: bool
    left_containers: list[str]
    left_mounts: list[str]
    left_interfaces: list[str]
    left_rules: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (
            self.left_containers or self.left_mounts or self.left_interfaces or self.left_rules
        )

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pods_drained": self.pods_drained,
            "containers_removed": self.containers_removed,
            "mounts_removed": self.mounts_removed,
            "bridge_deleted": self.bridge_deleted,
            "clean": self.clean,
            "left": {
                "containers": self.left_containers,
                "mounts": self.left_mounts,
                "interfaces": self.left_interfaces,
                "iptables_chains": self.left_rules,
            },
        }


def _usage_data(usage: Usage | None) -> dict[str, float | None]:
    return {
        "cpu_millicores": usage.cpu_millicores if usage else None,
        "memory_mib": usage.memory_mib if usage else None,
    }
