"""The drill engine's verdicts: a failed check or an error stopping the drill is "deviated"
(exit 1); a guard that sees the steady state break aborts it ("aborted", exit 1); Ctrl-C or
SIGTERM ends it at a safe point ("interrupted", 130); undo actions run whatever happened,
newest first; the journal says the same."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun, run_drill
from hyperscale.errors import ExternalSystemError
from hyperscale.exit_codes import ExitCode


def _app(tmp_path: Path) -> AppContext:
    return AppContext(state_dir=tmp_path / "state")


def test_all_checks_passing_is_ok_and_the_journal_holds_the_timeline(tmp_path: Path) -> None:
    undone: list[str] = []

    def body(run: DrillRun) -> None:
        with run.step("disturb"):
            run.undo_later("first", lambda: undone.append("first"))
            run.undo_later("second", lambda: undone.append("second"))
        run.check("steady again", True)
        run.measure("seconds_to_heal", 1.5)

    report = run_drill(_app(tmp_path), "unit", "local", body)
    assert (report.verdict, report.exit_code) == ("ok", ExitCode.OK)
    assert undone == ["second", "first"]
    journal = json.loads(Path(report.journal).read_text(encoding="utf-8"))
    assert journal["verdict"] == "ok"
    assert journal["measurements"] == {"seconds_to_heal": 1.5}
    kinds = [e["kind"] for e in journal["timeline"]]
    assert kinds == ["step", "done", "check", "measure", "undo", "undo"]


def test_a_failed_check_is_deviated(tmp_path: Path) -> None:
    report = run_drill(_app(tmp_path), "unit", "local", lambda run: run.check("lost", False))
    assert (report.verdict, report.exit_code) == ("deviated", ExitCode.CHECK_FAILED)


def test_an_error_stops_the_drill_deviated_and_the_undo_still_runs(tmp_path: Path) -> None:
    undone: list[str] = []

    def body(run: DrillRun) -> None:
        run.undo_later("restart the broker", lambda: undone.append("restarted"))
        with run.step("kill"):
            raise ExternalSystemError("broker refused")

    report = run_drill(_app(tmp_path), "unit", "local", body)
    assert report.verdict == "deviated"
    assert report.error == "broker refused"
    assert undone == ["restarted"]
    assert [e.kind for e in report.timeline] == ["step", "failed", "undo"]


def test_a_ctrl_c_that_raises_runs_the_undo_and_ends_interrupted_with_a_journal(
    tmp_path: Path,
) -> None:
    """A second Ctrl-C (or one outside the main thread) raises at once: the drill still ends
    cleanly, undo run, verdict interrupted (exit 130), the journal written."""
    undone: list[str] = []

    def body(run: DrillRun) -> None:
        run.undo_later("restart", lambda: undone.append("restarted"))
        raise KeyboardInterrupt

    report = run_drill(_app(tmp_path), "unit", "local", body)
    assert undone == ["restarted"]
    assert (report.verdict, report.exit_code) == ("interrupted", ExitCode.INTERRUPTED)
    journal = json.loads(Path(report.journal).read_text(encoding="utf-8"))
    assert journal["verdict"] == "interrupted"
    assert journal["stopped"]["kind"] == "interrupted"


def test_sigint_stops_the_drill_at_its_next_safe_point(tmp_path: Path) -> None:
    """The first Ctrl-C is a request: the step under way finishes, the next wait ends it."""
    finished: list[str] = []

    def body(run: DrillRun) -> None:
        with run.step("harm"):
            os.kill(os.getpid(), signal.SIGINT)
            finished.append("harm")  # not cut short
        run.sleep(30)
        finished.append("never")

    started = time.monotonic()
    report = run_drill(_app(tmp_path), "unit", "local", body)
    assert time.monotonic() - started < 10
    assert finished == ["harm"]
    assert report.verdict == "interrupted"
    assert report.stopped is not None
    assert "Ctrl-C or SIGTERM" in report.stopped.why


def test_a_guard_whose_probe_fails_twice_aborts_the_drill(tmp_path: Path) -> None:
    answers = iter([(True, "fine"), (False, "api down"), (False, "api down again")])
    harmed: list[int] = []

    def body(run: DrillRun) -> None:
        with run.guard("steady during", lambda: next(answers, (False, "down")), interval=0.05):
            for n in range(100):
                run.checkpoint()  # no further harm once aborted
                harmed.append(n)
                run.sleep(0.05)

    report = run_drill(_app(tmp_path), "unit", "local", body)
    assert (report.verdict, report.exit_code) == ("aborted", ExitCode.CHECK_FAILED)
    assert report.stopped is not None
    assert report.stopped.why == "steady during broke: api down again"
    assert len(harmed) < 100
    [check] = report.checks
    assert (check.name, check.ok) == ("steady during", False)
    assert check.detail.startswith("broke at ")


def test_a_guard_that_holds_passes_with_its_probe_count(tmp_path: Path) -> None:
    def body(run: DrillRun) -> None:
        with run.guard("steady during", lambda: (True, "fine"), interval=0.01):
            run.sleep(0.1)

    report = run_drill(_app(tmp_path), "unit", "local", body)
    assert report.verdict == "ok"
    [check] = report.checks
    assert check.ok
    assert check.detail.startswith("held over ")
