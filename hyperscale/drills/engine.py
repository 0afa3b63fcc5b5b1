"""Runs one drill: the body reports steps, checks and measurements to a :class:`DrillRun`;
undo actions it registers run at the end whatever happened (a stopped broker is started
again even when a check failed or Ctrl-C came); the journal is written as JSON.

A drill is a callable taking the run (and its own settings) and returning nothing; the
verdict comes from its checks: any failed check, or an error that stopped it, is "deviated".
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from hyperscale.context import AppContext
from hyperscale.drills.results import (
    CheckOutcome,
    DrillReport,
    Measurement,
    TimelineEntry,
)
from hyperscale.errors import HyperscaleError, summary
from hyperscale.progress import Progress, quiet


class DrillRun:
    def __init__(self, drill: str, env: str, progress: Progress = quiet) -> None:
        self.drill = drill
        self.env = env
        self.progress = progress
        self.started_at = dt.datetime.now(dt.UTC)
        self._clock = time.monotonic()
        self.timeline: list[TimelineEntry] = []
        self.checks: list[CheckOutcome] = []
        self.measurements: dict[str, Measurement] = {}
        self._undo: list[tuple[str, Callable[[], object]]] = []

    def elapsed(self) -> float:
        return time.monotonic() - self._clock

    def _add(self, kind: str, what: str, **detail: Any) -> None:
        self.timeline.append(TimelineEntry(round(self.elapsed(), 3), kind, what, detail))

    def note(self, what: str, **detail: Any) -> None:
        self._add("note", what, **detail)
        self.progress(what)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        self._add("step", name)
        self.progress(name)
        started = time.monotonic()
        try:
            yield
        except BaseException as exc:
            self._add("failed", name, error=str(exc))
            raise
        self._add("done", name, seconds=round(time.monotonic() - started, 3))

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(CheckOutcome(name, ok, detail))
        self._add("check", name, ok=ok, detail=detail)
        return ok

    def measure(self, name: str, value: Measurement) -> None:
        self.measurements[name] = value
        self._add("measure", name, value=value)

    def undo_later(self, what: str, action: Callable[[], object]) -> None:
        """Run ``action`` at the end of the drill, newest first, whatever happens."""
        self._undo.append((what, action))

    def run_undo(self) -> list[str]:
        problems = []
        while self._undo:
            what, action = self._undo.pop()
            self._add("undo", what)
            try:
                action()
            except HyperscaleError as exc:
                problems.append(f"{what}: {summary(exc.message, exc.hint)}")
        return problems


def run_drill(
    app: AppContext,
    drill: str,
    env: str,
    body: Callable[[DrillRun], None],
    progress: Progress = quiet,
) -> DrillReport:
    run = DrillRun(drill, env, progress)
    error: str | None = None
    try:
        body(run)
    except HyperscaleError as exc:
        error = summary(exc.message, exc.hint)
    finally:
        # Also on Ctrl-C: the undo runs, then the interrupt goes on to the boundary.
        undo_problems = run.run_undo()
    if undo_problems:
        error = "; ".join(filter(None, [error, *undo_problems]))
    journal = journal_path(app, drill, run.started_at)
    report = DrillReport(
        drill=drill,
        env=env,
        started_at=run.started_at.isoformat(),
        seconds=round(run.elapsed(), 3),
        checks=run.checks,
        measurements=run.measurements,
        timeline=run.timeline,
        journal=str(journal),
        error=error,
    )
    journal.parent.mkdir(parents=True, exist_ok=True)
    document = {**asdict(report), "verdict": report.verdict}
    journal.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def journal_path(app: AppContext, drill: str, started: dt.datetime) -> Path:
    return app.state_dir / "drills" / f"{started.strftime('%Y%m%dT%H%M%S.%fZ')}-{drill}.json"


def wait_until(
    predicate: Callable[[], bool], timeout: float, interval: float = 0.5
) -> float | None:
    """Poll until ``predicate`` holds; the seconds it took, or None after ``timeout``."""
    started = time.monotonic()
    while True:
        if predicate():
            return time.monotonic() - started
        if time.monotonic() - started >= timeout:
            return None
        time.sleep(interval)
