"""The typed result of `hyperscale render`: findings, staleness, what each tool did."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.findings import Finding
from hyperscale.render.validators.base import ValidatorReport

if TYPE_CHECKING:
    from rich.console import Console


class Staleness(StrEnum):
    CHANGED = "changed"  # committed, but a fresh render differs
    MISSING = "missing"  # a fresh render has it, the tree does not
    EXTRA = "extra"  # in the tree, but no template renders it any more


@dataclass(frozen=True)
class StaleFile:
    path: Path
    state: Staleness


@dataclass
class RenderResult:
    env: str
    #: The repository root: paths in the output are relative to it.
    root: Path
    output_dir: Path
    files: list[Path]
    check: bool
    reports: list[ValidatorReport]
    stale: list[StaleFile] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        # By place: a finding without a line sorts before the lines of its file.
        return sorted(
            (f for r in self.reports for f in r.findings),
            key=lambda f: (str(f.file), f.line or 0, f.tool, f.message),
        )

    @property
    def tool_errors(self) -> list[ValidatorReport]:
        return [r for r in self.reports if r.error]

    @property
    def exit_code(self) -> ExitCode:
        if self.tool_errors:
            return ExitCode.EXTERNAL  # validation is incomplete: say so louder than findings
        if self.findings or (self.check and self.stale):
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def to_data(self) -> Any:
        return {
            "environment": self.env,
            "output_dir": self._rel(self.output_dir),
            "check": self.check,
            "files": [self._rel(p) for p in self.files],
            "written": [self._rel(p) for p in self.written],
            "stale": [{"file": self._rel(s.path), "state": s.state.value} for s in self.stale],
            "findings": [f.to_data(self.root) for f in self.findings],
            "tools": [r.to_data() for r in self.reports],
            "seconds": round(self.seconds, 3),
        }

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        findings = self.findings
        if findings:
            table = Table(title=f"{len(findings)} finding(s)", title_justify="left")
            table.add_column("file:line", overflow="fold")
            table.add_column("tool", no_wrap=True)
            table.add_column("problem", overflow="fold")
            for f in findings:
                table.add_row(escape(f.location(self.root)), f.tool, escape(f.message))
            console.print(table)
        for report in self.reports:
            state = (
                "[red]could not run[/]"
                if report.error
                else ("[red]failed[/]" if report.findings else "[green]ok[/]")
            )
            detail = report.error or "; ".join(report.notes)
            console.print(f"{report.tool:<13} {state} ({report.seconds:.1f}s) {escape(detail)}")
        if self.check and self.stale:
            fix = f"run `hyperscale render --env {self.env}` and commit"
            console.print(f"[red]{len(self.stale)} stale file(s)[/]: {fix}")
            for s in self.stale:
                console.print(f"  {s.state.value:<8} {escape(self._rel(s.path))}")
        what = "checked" if self.check else f"written ({len(self.written)} changed)"
        console.print(
            f"{self.env}: {len(self.files)} files {what} in {escape(self._rel(self.output_dir))},"
            f" {len(findings)} finding(s), {self.seconds:.1f}s"
        )
