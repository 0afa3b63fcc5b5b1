"""The error boundary: known errors are one line, unknown ones are logged, Ctrl-C is 130."""

from __future__ import annotations

import io
import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import typer
from typer.testing import CliRunner

from hyperscale.boundary import run_command
from hyperscale.context import AppContext
from hyperscale.errors import CheckFailedError, ConfigError, ExternalSystemError
from hyperscale.exit_codes import ExitCode
from hyperscale.output import OutputFormat


def _run(tmp_path: Path, body: Callable[[AppContext], object], output: str = "table"):
    """A one-command app whose body raises; the boundary is the real one."""
    app = typer.Typer()

    @app.command()
    def cmd(ctx: typer.Context) -> None:
        run_command(ctx, "test cmd", OutputFormat(output), body)  # type: ignore[arg-type]

    ctx = AppContext(stdout=io.StringIO(), stderr=io.StringIO(), state_dir=tmp_path / "state")
    result = CliRunner().invoke(app, [], obj=ctx, catch_exceptions=False)
    return result.exit_code, ctx.stdout.getvalue(), ctx.stderr.getvalue()  # type: ignore[attr-defined]


def _raise(exc: BaseException) -> Callable[[AppContext], object]:
    def body(_: AppContext) -> object:
        raise exc

    return body


def test_known_errors_map_to_their_exit_codes(tmp_path: Path) -> None:
    cases = [
        (ConfigError("bad key", hint="fix it"), ExitCode.USAGE),
        (ExternalSystemError("broker down"), ExitCode.EXTERNAL),
        (CheckFailedError("lag too high"), ExitCode.CHECK_FAILED),
    ]
    for error, code in cases:
        exit_code, stdout, stderr = _run(tmp_path, _raise(error))
        assert exit_code == code
        assert stdout == ""
        assert stderr.strip().splitlines() == [f"error: {error.lines()[0]}"]
        assert "Traceback" not in stderr


def test_unexpected_error_writes_a_crash_log_and_no_traceback(tmp_path: Path) -> None:
    exit_code, _, stderr = _run(tmp_path, _raise(ZeroDivisionError("division by zero")))
    assert exit_code == ExitCode.INTERNAL
    assert "Traceback" not in stderr
    assert "unexpected error: ZeroDivisionError: division by zero" in stderr
    logs = list((tmp_path / "state" / "logs").glob("crash-*.log"))
    assert len(logs) == 1
    assert str(logs[0]) in stderr.replace("\n", "")
    assert "Traceback" in logs[0].read_text()


def test_interrupt_exits_130(tmp_path: Path) -> None:
    exit_code, _, stderr = _run(tmp_path, _raise(KeyboardInterrupt()))
    assert exit_code == ExitCode.INTERRUPTED
    assert "interrupted" in stderr


def test_error_envelope_in_json_mode(tmp_path: Path) -> None:
    exit_code, stdout, _ = _run(tmp_path, _raise(ExternalSystemError("broker down")), "json")
    doc = json.loads(stdout)
    assert exit_code == doc["exit_code"] == 3
    assert doc["errors"][0]["message"] == "broker down"
    assert doc["errors"][0]["code"] == "external"


def test_crash_log_falls_back_to_a_temporary_file(tmp_path: Path) -> None:
    # The state directory is usable (one that is a file is refused before the command runs:
    # tests/kafka/test_cli_edges.py), but its logs directory cannot be made.
    blocked = tmp_path / "state"
    blocked.mkdir()
    (blocked / "logs").write_text("")
    app = typer.Typer()

    @app.command()
    def cmd(ctx: typer.Context) -> None:
        run_command(ctx, "test cmd", OutputFormat.table, _raise(RuntimeError("boom")))  # type: ignore[arg-type]

    ctx = AppContext(stdout=io.StringIO(), stderr=io.StringIO(), state_dir=blocked)
    result = CliRunner().invoke(app, [], obj=ctx, catch_exceptions=False)
    stderr = ctx.stderr.getvalue()  # type: ignore[attr-defined]
    assert result.exit_code == ExitCode.INTERNAL
    logged = stderr.split("traceback written to ")[1].split(";")[0].replace("\n", "")
    assert Path(logged).is_file()
    assert "RuntimeError: boom" in Path(logged).read_text()
    Path(logged).unlink()


def test_ctrl_c_that_a_library_turns_into_another_error_is_still_130(tmp_path: Path) -> None:
    """confluent_kafka, interrupted while it reads its configuration, raises a TypeError: the
    user pressed Ctrl-C, and that is what they are told, with no crash log."""

    def body(_: AppContext) -> object:
        try:
            os.kill(os.getpid(), signal.SIGINT)  # a real Ctrl-C, through the real handler
            time.sleep(5)
        except KeyboardInterrupt:
            raise TypeError("expected configuration property name as type unicode string") from None
        raise AssertionError("the SIGINT never arrived")

    # As in a new process (the CLI's): Python's own Ctrl-C handler, whatever a test before
    # this one left installed.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        exit_code, _, stderr = _run(tmp_path, body)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert exit_code == ExitCode.INTERRUPTED
    assert stderr.strip().splitlines() == ["error: interrupted by the user"]
    assert not list((tmp_path / "state" / "logs").glob("crash-*.log"))
