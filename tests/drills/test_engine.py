"""The drill engine's verdicts: a failed check or an error stopping the drill is "deviated"
(exit 1); undo actions run whatever happened, newest first; the journal says the same."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

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


def test_ctrl_c_runs_the_undo_and_goes_on(tmp_path: Path) -> None:
    undone: list[str] = []

    def body(run: DrillRun) -> None:
        run.undo_later("restart", lambda: undone.append("restarted"))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_drill(_app(tmp_path), "unit", "local", body)
    assert undone == ["restarted"]
