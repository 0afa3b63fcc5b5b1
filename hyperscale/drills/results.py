"""What a drill leaves behind: its timeline, checks, measurements and verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console

Measurement = float | int | str | None


@dataclass(frozen=True)
class TimelineEntry:
    #: Seconds since the drill started.
    at_s: float
    #: step, done, failed, note, check, measure, undo
    kind: str
    what: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class DrillReport:
    drill: str
    env: str
    started_at: str
    seconds: float
    checks: list[CheckOutcome]
    measurements: dict[str, Measurement]
    timeline: list[TimelineEntry]
    journal: str
    #: The error that stopped the drill before its end, if one did.
    error: str | None = None

    @property
    def verdict(self) -> str:
        return "ok" if self.error is None and all(c.ok for c in self.checks) else "deviated"

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.verdict == "ok" else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data

    def render(self, console: Console) -> None:
        word = "[green]ok[/]" if self.verdict == "ok" else "[bold red]deviated[/]"
        console.print(f"drill {self.drill} on {self.env}: {word} in {self.seconds:.1f}s")
        for entry in self.timeline:
            if entry.kind in {"step", "failed", "note", "undo"}:
                console.print(f"  {entry.at_s:7.2f}s  {entry.kind:6} {entry.what}")
        for check in self.checks:
            mark = "[green]pass[/]" if check.ok else "[bold red]FAIL[/]"
            console.print(f"  {mark} {check.name}" + (f": {check.detail}" if check.detail else ""))
        for name, value in self.measurements.items():
            console.print(f"  {name} = {value}")
        if self.error:
            console.print(f"  [bold red]stopped by[/] {self.error}")
        console.print(f"  journal: {self.journal}")
