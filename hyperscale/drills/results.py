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
    #: step, done, failed, note, check, measure, undo, abort, interrupt
    kind: str
    what: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class DrillStop:
    """Why a drill ended before its end: its hypothesis broke while it ran (``aborted``), or
    it was stopped from outside by Ctrl-C or SIGTERM (``interrupted``)."""

    kind: str
    why: str
    #: Seconds since the drill started, and the wall-clock time (UTC, ISO 8601).
    at_s: float
    at: str


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
    #: Set when the drill ended early: aborted (its hypothesis broke) or interrupted.
    stopped: DrillStop | None = None

    @property
    def verdict(self) -> str:
        """ok; deviated (a check failed, an error stopped it); aborted (the steady state broke
        while it ran, so no further harm was done); interrupted (Ctrl-C or SIGTERM)."""
        if self.stopped is not None:
            return self.stopped.kind
        return "ok" if self.error is None and all(c.ok for c in self.checks) else "deviated"

    @property
    def exit_code(self) -> ExitCode:
        if self.verdict == "interrupted":
            return ExitCode.INTERRUPTED
        return ExitCode.OK if self.verdict == "ok" else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = self.verdict
        return data

    def render(self, console: Console) -> None:
        word = "[green]ok[/]" if self.verdict == "ok" else f"[bold red]{self.verdict}[/]"
        console.print(f"drill {self.drill} on {self.env}: {word} in {self.seconds:.1f}s")
        for entry in self.timeline:
            if entry.kind in {"step", "failed", "note", "undo", "abort", "interrupt"}:
                console.print(f"  {entry.at_s:7.2f}s  {entry.kind:6} {entry.what}")
        for check in self.checks:
            mark = "[green]pass[/]" if check.ok else "[bold red]FAIL[/]"
            console.print(f"  {mark} {check.name}" + (f": {check.detail}" if check.detail else ""))
        for name, value in self.measurements.items():
            console.print(f"  {name} = {value}")
        if self.stopped:
            console.print(
                f"  [bold red]{self.stopped.kind}[/] at {self.stopped.at_s:.2f}s"
                f" ({self.stopped.at}): {self.stopped.why}"
            )
        if self.error:
            console.print(f"  [bold red]stopped by[/] {self.error}")
        console.print(f"  journal: {self.journal}")
