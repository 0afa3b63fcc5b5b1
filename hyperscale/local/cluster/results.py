"""Typed results of `hyperscale local cluster` commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.clients.kube import NodeState
from hyperscale.exit_codes import ExitCode
from hyperscale.local.cluster.kwokctl import ComponentProcess

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

    @property
    def healthy(self) -> bool:
        return (
            bool(self.components)
            and all(c.running for c in self.components)
            and self.server_version is not None
            and sum(n.ready for n in self.nodes) >= self.expected_nodes
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
        console.print(f"kubectl --kubeconfig {self.kubeconfig} --context {self.context} get nodes")
        if not self.healthy:
            console.print(f"logs: {self.logs}")


@dataclass(frozen=True)
class ClusterDownResult:
    name: str
    #: stopped, already stopped, deleted, absent
    outcome: str

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name, "outcome": self.outcome}

    def render(self, console: Console) -> None:
        console.print(f"cluster {self.name}: {self.outcome}")
