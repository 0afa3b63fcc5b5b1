"""The JSON envelope is a contract: scripts and cron jobs parse it. Pin its shape."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.output import ENVELOPE_VERSION, ErrorInfo, console_for, envelope, status_word
from tests.conftest import invoke

ENVELOPE_KEYS = ["apiVersion", "command", "status", "exit_code", "data", "errors"]


def test_exit_codes_are_the_documented_numbers() -> None:
    assert {c.name: int(c) for c in ExitCode} == {
        "OK": 0,
        "CHECK_FAILED": 1,
        "USAGE": 2,
        "EXTERNAL": 3,
        "INTERNAL": 70,
        "INTERRUPTED": 130,
    }


def test_envelope_has_exactly_the_versioned_keys() -> None:
    doc = envelope("local status", ExitCode.OK, {"x": 1})
    assert list(doc) == ENVELOPE_KEYS
    assert doc["apiVersion"] == ENVELOPE_VERSION == "hyperscale.dev/v1"
    assert doc["errors"] == []


def test_status_word_follows_the_exit_code() -> None:
    assert status_word(ExitCode.OK) == "ok"
    assert status_word(ExitCode.CHECK_FAILED) == "failed"
    for code in (ExitCode.USAGE, ExitCode.EXTERNAL, ExitCode.INTERNAL, ExitCode.INTERRUPTED):
        assert status_word(code) == "error"


def test_error_entries_carry_code_message_hint_details() -> None:
    doc = envelope("x", ExitCode.USAGE, None, [ErrorInfo("config", "bad", "fix it", ["more"])])
    assert doc["errors"] == [
        {"code": "config", "message": "bad", "hint": "fix it", "details": ["more"]}
    ]


def test_cli_error_in_json_mode_is_an_envelope_and_one_stderr_line(
    isolated_app: AppContext,
) -> None:
    outcome = invoke(isolated_app, "local", "status", "--env", "nope", "-o", "json")
    assert outcome.exit_code == ExitCode.USAGE
    doc = json.loads(outcome.stdout)
    assert list(doc) == ENVELOPE_KEYS
    assert doc["command"] == "local status"
    assert doc["status"] == "error"
    assert doc["exit_code"] == 2
    assert doc["data"] is None
    assert doc["errors"][0]["code"] == "config"
    assert "unknown environment 'nope'" in doc["errors"][0]["message"]
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_yaml_output_is_the_same_envelope(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "local", "status", "--env", "nope", "-o", "yaml")
    doc = yaml.safe_load(outcome.stdout)
    assert list(doc) == ENVELOPE_KEYS
    assert doc["exit_code"] == 2


def _rendered(app: AppContext) -> str:
    console_for(app).print("[red]down[/]")
    assert isinstance(app.stdout, io.StringIO)
    return app.stdout.getvalue()


def test_colour_only_on_a_terminal() -> None:
    piped = AppContext(stdout=io.StringIO(), stdout_isatty=False)
    terminal = AppContext(stdout=io.StringIO(), stdout_isatty=True)
    assert _rendered(piped) == "down\n"
    assert "\x1b[31m" in _rendered(terminal)


def test_no_color_is_respected_on_a_terminal() -> None:
    app = AppContext(stdout=io.StringIO(), stdout_isatty=True, no_color=True)
    assert "\x1b[" not in _rendered(app)


def test_no_color_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert AppContext.from_os().no_color
    # no-color.org: "when present and not an empty string"
    monkeypatch.setenv("NO_COLOR", "")
    assert not AppContext.from_os().no_color
    monkeypatch.delenv("NO_COLOR")
    assert not AppContext.from_os().no_color


def test_spinners_only_for_people() -> None:
    assert AppContext(stderr_isatty=True, environ={}).interactive
    assert not AppContext(stderr_isatty=False, environ={}).interactive
    assert not AppContext(stderr_isatty=True, environ={"CI": "true"}).interactive
