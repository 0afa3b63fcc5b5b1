"""Typed results of `hyperscale deploy` and `hyperscale status`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class ProgramOutcome:
    name: str
    #: started, restarted, unchanged (deploy); running, starting, stopped, fatal... (status)
    action: str
    pid: int | None
    address: str
    ready: bool
    uptime_s: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class DeployResult:
    environment: str
    target: str
    migrations_applied: list[str]
    schema_revision: str | None
    topics_created: list[str]
    programs: list[ProgramOutcome]
    removed_programs: list[str]
    seconds: float

    @property
    def changed(self) -> bool:
        return bool(
            self.migrations_applied
            or self.topics_created
            or self.removed_programs
            or any(p.action != "unchanged" for p in self.programs)
        )

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}

    def render(self, console: Console) -> None:
        from rich.table import Table

        verdict = "changes applied" if self.changed else "nothing to change"
        where = f"[bold]{self.environment}[/] ({self.target})"
        console.print(f"deployed {where}: {verdict} in {self.seconds:.1f}s")
        migrations = ", ".join(self.migrations_applied) or "none"
        console.print(f"  schema: revision {self.schema_revision} (applied: {migrations})")
        console.print(f"  topics created: {', '.join(self.topics_created) or 'none'}")
        table = Table("program", "change", "pid", "listens", "ready")
        for p in self.programs:
            table.add_row(
                p.name, p.action, str(p.pid or "-"), p.address, "yes" if p.ready else "[red]no[/]"
            )
        console.print(table)
        for name in self.removed_programs:
            console.print(f"  removed program {name}")


@dataclass(frozen=True)
class StatusResult:
    environment: str
    target: str
    deployed: bool
    programs: list[ProgramOutcome]

    @property
    def exit_code(self) -> ExitCode:
        healthy = self.deployed and all(p.ready for p in self.programs)
        return ExitCode.OK if healthy else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        return asdict(self)

    def render(self, console: Console) -> None:
        from rich.table import Table

        if not self.deployed:
            hint = f"run `hyperscale deploy --env {self.environment}`"
            console.print(f"[red]{self.environment}: not deployed[/] ({hint})")
            return
        table = Table(
            "program",
            "state",
            "pid",
            "uptime",
            "listens",
            "ready",
            title=f"{self.environment} ({self.target})",
        )
        for p in self.programs:
            uptime = f"{p.uptime_s:.0f}s" if p.uptime_s is not None else "-"
            ready = "yes" if p.ready else f"[red]no[/] {p.detail}"
            table.add_row(p.name, p.action, str(p.pid or "-"), uptime, p.address, ready)
        console.print(table)
