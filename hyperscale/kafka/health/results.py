"""Typed result of `hyperscale kafka health`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.clients.kafka.health import PartitionState
from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class BrokerHealth:
    #: None: known only by its bootstrap address (it is not in the cluster's live brokers).
    id: int | None
    address: str | None
    #: In the cluster's live brokers (DescribeCluster).
    live: bool
    #: None when it answered a request sent to it alone; else what went wrong.
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.live and self.problem is None


@dataclass(frozen=True)
class KafkaHealthReport:
    bootstrap: str
    cluster_id: str
    controller: int | None
    brokers: list[BrokerHealth]
    partitions: int
    under_replicated: list[PartitionState] = field(default_factory=list)
    under_min_isr: list[PartitionState] = field(default_factory=list)
    offline: list[PartitionState] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        found = []
        if self.controller is None:
            found.append("no active controller")
        found += [
            f"broker {b.id if b.id is not None else b.address} "
            + ("is not in the cluster" if not b.live else f"does not answer: {b.problem}")
            for b in self.brokers
            if not b.ok
        ]
        if self.offline:
            found.append(f"{len(self.offline)} offline partition(s)")
        if self.under_min_isr:
            found.append(f"{len(self.under_min_isr)} partition(s) under min.insync.replicas")
        if self.under_replicated:
            found.append(f"{len(self.under_replicated)} under-replicated partition(s)")
        return found

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.healthy else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["status"] = "healthy" if self.healthy else "degraded"
        data["problems"] = self.problems
        return data

    def render(self, console: Console) -> None:
        from rich.table import Table

        word = "[green]healthy[/]" if self.healthy else "[bold red]degraded[/]"
        console.print(
            f"Kafka at {self.bootstrap}: {word}; cluster {self.cluster_id}, controller"
            f" {self.controller if self.controller is not None else 'none'},"
            f" {self.partitions} partitions"
        )
        brokers = Table("broker", "address", "in cluster", "answers")
        for b in self.brokers:
            brokers.add_row(
                "?" if b.id is None else str(b.id),
                b.address or "?",
                "yes" if b.live else "no",
                "yes" if b.problem is None else b.problem,
            )
        console.print(brokers)
        for title, rows in (
            ("offline", self.offline),
            ("under min.insync.replicas", self.under_min_isr),
            ("under-replicated", self.under_replicated),
        ):
            if rows:
                table = Table(
                    "topic", "partition", "leader", "replicas", "in sync", "min ISR", title=title
                )
                for p in rows:
                    table.add_row(
                        p.topic,
                        str(p.partition),
                        str(p.leader),
                        ",".join(map(str, p.replicas)),
                        ",".join(map(str, p.isr)),
                        str(p.min_isr),
                    )
                console.print(table)
        for problem in self.problems:
            console.print(f"  {problem}")
