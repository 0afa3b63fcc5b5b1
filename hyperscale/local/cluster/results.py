"""Typed results of `hyperscale local cluster` commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.clients.kube import NodeState
from hyperscale.clients.kube_api import Usage
from hyperscale.exit_codes import ExitCode
from hyperscale.local.cluster.kwokctl import ComponentProcess
from hyperscale.local.cluster.node_results import RealNodeDown, RealNodeState

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class ClusterResult:
    name: str
    #: created, started, reused (up); status; absent (no cluster yet)
    action: str
    api_server: str
    server_version: str | None
    kubeconfig: str
    context: str
    components: list[ComponentProcess]
    nodes: list[NodeState]
    expected_nodes: int
    seconds: float
    logs: str
    #: None when the real node was never started under this state directory.
    real_node: RealNodeState | None = None

    @property
    def real_node_expected(self) -> bool:
        """A real node that runs, or is registered, must be Ready; one taken down need not."""
        node = self.real_node
        return node is not None and (
            node.containerd_pid is not None or node.kubelet_pid is not None or node.registered
        )

    @property
    def healthy(self) -> bool:
        return (
            bool(self.components)
            and all(c.running for c in self.components)
            and self.server_version is not None
            and sum(n.ready for n in self.nodes) >= self.expected_nodes
            and (not self.real_node_expected or bool(self.real_node and self.real_node.ready))
        )

    @property
    def exit_code(self) -> ExitCode:
        if self.healthy:
            return ExitCode.OK
        return ExitCode.CHECK_FAILED if self.action in {"status", "absent"} else ExitCode.EXTERNAL

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "action": self.action,
            "healthy": self.healthy,
            "api_server": self.api_server,
            "server_version": self.server_version,
            "kubeconfig": self.kubeconfig,
            "context": self.context,
            "components": [
                {"name": c.name, "pid": c.pid, "running": c.running} for c in self.components
            ],
            "nodes": [{"name": n.name, "zone": n.zone, "ready": n.ready} for n in self.nodes],
            "seconds": self.seconds,
            "logs": self.logs,
            "real_node": self.real_node.to_data() if self.real_node else None,
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        state = "[green]healthy[/]" if self.healthy else "[red]not healthy[/]"
        console.print(
            f"cluster [bold]{self.name}[/] ({self.action}): {state},"
            f" Kubernetes {self.server_version or 'unreachable'} at {self.api_server}"
        )
        table = Table(show_header=True)
        for column in ("component", "pid", "state"):
            table.add_column(column)
        for c in self.components:
            table.add_row(c.name, str(c.pid or "-"), "running" if c.running else "[red]stopped[/]")
        for n in self.nodes:
            table.add_row(
                f"node {n.name}", n.zone or "-", "Ready" if n.ready else "[red]NotReady[/]"
            )
        console.print(table)
        if self.real_node is not None:
            _render_real_node(console, self.real_node)
        console.print(f"kubectl --kubeconfig {self.kubeconfig} --context {self.context} get nodes")
        if not self.healthy:
            console.print(f"logs: {self.logs}")


def _render_real_node(console: Console, node: RealNodeState) -> None:
    from rich.table import Table

    def pid(value: int | None) -> str:
        return str(value) if value else "[red]stopped[/]"

    state = "[green]Ready[/]" if node.ready else "[red]not Ready[/]"
    if not node.registered:
        state += " (not registered)"
    console.print(
        f"real node [bold]{node.name}[/]: {state}, kubelet {node.kubelet_version or '?'}"
        f" (pid {pid(node.kubelet_pid)}), containerd (pid {pid(node.containerd_pid)}),"
        f" kube-proxy (pid {pid(node.kube_proxy_pid)}), in use {_usage_text(node.usage)}"
    )
    if node.pods:
        table = Table(show_header=True)
        for column in ("namespace", "pod", "phase", "ready", "restarts", "ip", "cpu / memory"):
            table.add_column(column)
        for p in node.pods:
            ready = "yes" if p.ready else "no"
            table.add_row(
                p.namespace,
                p.name,
                p.phase,
                ready,
                str(p.restarts),
                p.ip or "-",
                _usage_text(p.usage),
            )
        console.print(table)
    if not node.ready:
        console.print(f"real node logs: {node.logs}")


def _usage_text(usage: Usage | None) -> str:
    """`kubectl top`'s figures; "-" until metrics-server has measured."""
    if usage is None:
        return "-"
    return f"{usage.cpu_millicores:.0f}m / {usage.memory_mib:.0f}Mi"


@dataclass(frozen=True)
class ClusterDownResult:
    name: str
    #: stopped, already stopped, deleted, absent
    outcome: str
    real_node: RealNodeDown | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.real_node is not None and not self.real_node.clean:
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "outcome": self.outcome,
            "real_node": self.real_node.to_data() if self.real_node else None,
        }

    def render(self, console: Console) -> None:
        console.print(f"cluster {self.name}: {self.outcome}")
        node = self.real_node
        if node is None:
            return
        console.print(
            f"real node {node.name}: {node.pods_drained} pods drained,"
            f" {node.containers_removed} containers and {node.mounts_removed} mounts removed,"
            f" bridge {'deleted' if node.bridge_deleted else 'absent'}"
        )
        if not node.clean:
            console.print(
                "[red]left behind[/]: "
                + ", ".join(
                    f"{what} {', '.join(items)}"
                    for what, items in (
                        ("shims", node.left_containers),
                        ("mounts", node.left_mounts),
                        ("interfaces", node.left_interfaces),
                        ("iptables chains", node.left_rules),
                    )
                    if items
                )
            )
