"""Typed results of `hyperscale local` commands, each with its data and its human view."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class ServiceState(StrEnum):
    """Machine-readable states (part of the v1 envelope): one word each, never prose."""

    STARTED = "started"
    REUSED = "reused"
    FAILED = "failed"
    UP = "up"
    NOT_ANSWERING = "not_answering"
    STOPPED = "stopped"

    @property
    def healthy(self) -> bool:
        return self in {self.STARTED, self.REUSED, self.UP}


@dataclass(frozen=True)
class ServiceOutcome:
    name: str
    description: str
    address: str
    state: ServiceState
    pid: int | None
    detail: str
    seconds: float
    log_path: str
    log_tail: list[str] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)
    #: A pid file whose process was gone (or whose pid belonged to another process) was removed.
    stale_pid_cleaned: bool = False
    #: False when no process started by hyperscale is running (another program may answer).
    managed: bool = True

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["answers"] = self.state.healthy
        return data

    @property
    def label(self) -> str:
        if self.stale_pid_cleaned and self.state is ServiceState.STARTED:
            return "started (stale pid file cleaned)"
        if not self.managed and self.state is ServiceState.UP:
            return "up (not started by hyperscale)"
        return self.state.value.replace("_", " ")


def _services_table(title: str, outcomes: list[ServiceOutcome]) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in ("service", "address", "state", "pid", "detail"):
        table.add_column(column)
    for o in outcomes:
        colour = "green" if o.state.healthy else "red"
        table.add_row(
            o.name, o.address, f"[{colour}]{o.state.value}[/]", str(o.pid or "-"), o.detail
        )
    return table


def _render_failures(console: Console, outcomes: list[ServiceOutcome]) -> None:
    from rich.markup import escape

    for o in outcomes:
        if o.state is ServiceState.FAILED and o.log_tail:
            console.print(f"\n[bold]{o.name}[/] log ({o.log_path}), last lines:")
            for line in o.log_tail:
                console.print(f"  {escape(line)}")


@dataclass(frozen=True)
class LocalUpResult:
    environment: str
    services: list[ServiceOutcome]

    @property
    def exit_code(self) -> ExitCode:
        ok = all(s.state.healthy for s in self.services)
        return ExitCode.OK if ok else ExitCode.EXTERNAL

    def to_data(self) -> dict[str, Any]:
        return {"environment": self.environment, "services": [s.to_data() for s in self.services]}

    def render(self, console: Console) -> None:
        console.print(_services_table(f"local services ({self.environment})", self.services))
        _render_failures(console, self.services)


@dataclass(frozen=True)
class LocalStatusResult(LocalUpResult):
    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if all(s.state.healthy for s in self.services) else ExitCode.CHECK_FAILED


@dataclass(frozen=True)
class LocalDownResult:
    environment: str
    stopped: list[tuple[str, bool]]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "services": [{"name": n, "stopped": was} for n, was in self.stopped],
        }

    def render(self, console: Console) -> None:
        for name, was in self.stopped:
            console.print(f"{name}: {'stopped' if was else 'was not running'}")


@dataclass(frozen=True)
class InstallResult:
    services: list[tuple[str, dict[str, str]]]

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {"services": [{"name": n, "paths": p} for n, p in self.services]}

    def render(self, console: Console) -> None:
        for name, paths in self.services:
            console.print(
                f"{name}: ready to start ({', '.join(f'{k} {v}' for k, v in paths.items())})"
            )
