"""Runs one drill: the body reports steps, checks and measurements to a :class:`DrillRun`;
undo actions it registers run at the end whatever happened (a stopped broker is started
again even when a check failed or Ctrl-C came); the journal is written as JSON.

A drill is a callable taking the run (and its own settings) and returning nothing; the
verdict comes from its checks: any failed check, or an error that stopped it, is "deviated".

Two things end a drill early, both at its next safe point (``run.checkpoint()``, and every
``run.sleep`` / ``run.wait_until``): a guard that finds the steady state broken while the
drill runs (``run.guard``: verdict "aborted", exit 1: no further harm is done), and Ctrl-C
or SIGTERM (verdict "interrupted", exit 130). Either way the undo actions run and the journal
says why and when; a second Ctrl-C stops at once (the undo still runs).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
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
    DrillStop,
    Measurement,
    TimelineEntry,
)
from hyperscale.errors import HyperscaleError, summary
from hyperscale.interrupts import stop_requests
from hyperscale.progress import Progress, quiet

#: A guard's probe: whether the steady state holds now, and what it saw.
Probe = Callable[[], tuple[bool, str]]


class DrillStoppedError(Exception):
    """Raised at a safe point once the drill was aborted or interrupted; run_drill ends it."""


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
        #: Set by Ctrl-C / SIGTERM (stop_requests) or by abort(): the drill ends at its next
        #: safe point. ``stop`` says which and why; None: nobody asked.
        self.halt = threading.Event()
        self.stop: DrillStop | None = None
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        return time.monotonic() - self._clock

    def _add(self, kind: str, what: str, **detail: Any) -> None:
        with self._lock:
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
        with self._lock:
            self.checks.append(CheckOutcome(name, ok, detail))
        self._add("check", name, ok=ok, detail=detail)
        return ok

    # -- ending early -------------------------------------------------------------------------

    def abort(self, why: str) -> None:
        """End the drill at its next safe point because its hypothesis broke (any thread)."""
        with self._lock:
            if self.stop is None:
                self.stop = DrillStop("aborted", why, round(self.elapsed(), 3), _now_iso())
        self._add("abort", why)
        self.halt.set()

    def _stopped(self) -> DrillStop:
        """What halted the drill: an abort recorded it; otherwise Ctrl-C or SIGTERM did."""
        with self._lock:
            if self.stop is None:
                why = "stopped from outside (Ctrl-C or SIGTERM)"
                self.stop = DrillStop("interrupted", why, round(self.elapsed(), 3), _now_iso())
                self.timeline.append(TimelineEntry(self.stop.at_s, "interrupt", why, {}))
            return self.stop

    def checkpoint(self) -> None:
        """A safe point: raises DrillStoppedError once the drill was aborted or interrupted."""
        if self.halt.is_set():
            raise DrillStoppedError(self._stopped().why)

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` that ends early (DrillStoppedError) when the drill is halted."""
        if self.halt.wait(max(seconds, 0)):
            self.checkpoint()

    def wait_until(
        self, predicate: Callable[[], bool], timeout: float, interval: float = 0.5
    ) -> float | None:
        """:func:`wait_until` that ends early (DrillStoppedError) when the drill is halted."""
        started = time.monotonic()
        while True:
            self.checkpoint()
            if predicate():
                return time.monotonic() - started
            if time.monotonic() - started >= timeout:
                return None
            self.sleep(interval)

    @contextmanager
    def guard(
        self, name: str, probe: Probe, interval: float = 0.5, tolerance: int = 2
    ) -> Iterator[None]:
        """Check the steady state while the block runs, on a thread: ``tolerance`` failed
        probes in a row abort the drill (a check named ``name`` fails, saying what was seen
        and when). Without a breach the check passes, with the number of probes."""
        done = threading.Event()
        seen: dict[str, Any] = {"probes": 0, "failed": 0, "last_failure": ""}

        def watch() -> None:
            in_a_row = 0
            while not done.is_set() and not self.halt.is_set():
                try:
                    ok, detail = probe()
                except HyperscaleError as exc:
                    ok, detail = False, summary(exc.message, exc.hint)
                seen["probes"] += 1
                in_a_row = 0 if ok else in_a_row + 1
                seen["failed"] += 0 if ok else 1
                seen["last_failure"] = seen["last_failure"] if ok else detail
                if in_a_row >= tolerance:
                    at = round(self.elapsed(), 3)
                    self.check(name, False, f"broke at {at:.2f}s: {detail}")
                    self.abort(f"{name} broke: {detail}")
                    return
                done.wait(interval)

        thread = threading.Thread(target=watch, name=f"drill-guard-{self.drill}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(30)
        if self.stop is None or self.stop.kind != "aborted":
            alone = (
                f", {seen['failed']} failed alone (last: {seen['last_failure']})"
                if seen["failed"]
                else ""
            )
            self.check(name, True, f"held over {seen['probes']} probe(s){alone}")

    def measure(self, name: str, value: Measurement) -> None:
        self.measurements[name] = value
        self._add("measure", name, value=value)

    def checkpoint_quietly(self) -> None:
        """Record what halted the drill, without raising."""
        self._stopped()

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
    error: str | None = None
    # Ctrl-C / SIGTERM set the run's halt event: the body ends at its next safe point and the
    # undo runs with the signals still caught (a second one raises at once; an abort does not
    # count as the first).
    run = DrillRun(drill, env, progress)
    with stop_requests(also=run.halt):
        try:
            body(run)
            if run.halt.is_set():
                run.checkpoint()
        except DrillStoppedError:
            pass  # run.stop says why and when
        except HyperscaleError as exc:
            if run.halt.is_set():
                run.checkpoint_quietly()
            error = summary(exc.message, exc.hint)
        except KeyboardInterrupt:
            run.checkpoint_quietly()  # a second Ctrl-C: no safe point waited for
        finally:
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
        stopped=run.stop,
    )
    journal.parent.mkdir(parents=True, exist_ok=True)
    document = {**asdict(report), "verdict": report.verdict}
    journal.write_text(json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8")
    return report


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


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
