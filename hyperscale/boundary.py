"""The error boundary: every command runs inside it, so errors look and exit the same everywhere."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from hyperscale.context import AppContext
from hyperscale.errors import HyperscaleError
from hyperscale.exit_codes import ExitCode
from hyperscale.interrupts import noted_interrupts
from hyperscale.output import ErrorInfo, OutputFormat, Result, emit_error, emit_result

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.progress import Progress


def app_context(ctx: typer.Context) -> AppContext:
    root = ctx.find_root()
    if not isinstance(root.obj, AppContext):
        root.obj = AppContext.from_os()
    return root.obj


def run_command(
    ctx: typer.Context,
    command: str,
    output: OutputFormat,
    body: Callable[[AppContext], Result],
) -> NoReturn:
    """Run ``body``, render its result, and exit with the code the result or the error names."""
    app = app_context(ctx)
    interrupted = ErrorInfo("interrupted", "interrupted by the user")
    with noted_interrupts() as ctrl_c:
        try:
            _check_state_dir(app)
            result = body(app)
            code = emit_result(app, output, command, result)
        except HyperscaleError as exc:
            code = exc.exit_code
            info = ErrorInfo(exc.code, exc.message, exc.hint, exc.details)
            emit_error(app, output, command, code, info)
        except KeyboardInterrupt:
            code = ExitCode.INTERRUPTED
            emit_error(app, output, command, code, interrupted)
        except Exception as exc:  # noqa: BLE001 - the boundary: log unknown failures, never traceback
            code = _unexpected(app, output, command, exc, interrupted if ctrl_c.is_set() else None)
    raise typer.Exit(int(code))


def _check_state_dir(app: AppContext) -> None:
    """The state directory (pid files, data, logs, generated secrets) must be a directory or
    not exist yet: a file there, or on the way to it, is a configuration error up front rather
    than a crash in whichever command first writes under it."""
    from hyperscale.errors import ConfigError

    path = app.state_dir
    for candidate in (path, *path.parents):
        if candidate.is_dir():
            return
        if candidate.exists() or candidate.is_symlink():
            where = "is" if candidate == path else f"is under {candidate}, which is"
            raise ConfigError(
                f"the state directory {path} {where} not a directory",
                hint="point HYPERSCALE_STATE_DIR (or XDG_STATE_HOME) at a directory,"
                " or remove the file",
            )


def _unexpected(
    app: AppContext, output: OutputFormat, command: str, exc: Exception, interrupt: ErrorInfo | None
) -> ExitCode:
    """An error nobody named: Ctrl-C that came out as another exception, or a crash (logged)."""
    if interrupt is not None:
        emit_error(app, output, command, ExitCode.INTERRUPTED, interrupt)
        return ExitCode.INTERRUPTED
    log_path = write_crash_log(app, command, exc)
    info = ErrorInfo(
        "internal",
        f"unexpected error: {type(exc).__name__}: {exc}",
        hint=f"traceback written to {log_path}; please report it",
    )
    emit_error(app, output, command, ExitCode.INTERNAL, info)
    return ExitCode.INTERNAL


def run_env_command(
    ctx: typer.Context,
    command: str,
    output: OutputFormat,
    env_name: str | None,
    body: Callable[[Environment, AppContext], Result],
) -> NoReturn:
    """``run_command`` for commands that act on an environment: load it (inside the boundary,
    so a bad file is reported like any other error), then run ``body`` with it."""

    def with_environment(app: AppContext) -> Result:
        from hyperscale.config.loader import load_environment

        return body(load_environment(app, env_name), app)

    run_command(ctx, command, output, with_environment)


def run_env_progress_command(
    ctx: typer.Context,
    command: str,
    output: OutputFormat,
    env_name: str | None,
    work: Callable[[Environment, AppContext, Progress], Result],
) -> NoReturn:
    """``run_env_command`` for long work that reports its steps: a spinner titled ``command``
    on a terminal, silence when piped."""

    def body(environment: Environment, app: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        with progress_spinner(app, command) as progress:
            return work(environment, app, progress)

    run_env_command(ctx, command, output, env_name, body)


def write_crash_log(app: AppContext, command: str, exc: BaseException) -> Path | str:
    """The traceback goes to the state directory, or to a temporary file if that is unusable."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    text = f"hyperscale {command}\n" + "".join(traceback.format_exception(exc))
    try:
        app.log_dir.mkdir(parents=True, exist_ok=True)
        path = app.log_dir / f"crash-{stamp}.log"
        path.write_text(text, encoding="utf-8")
    except OSError:
        try:
            fd, name = tempfile.mkstemp(prefix=f"hyperscale-crash-{stamp}-", suffix=".log")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError:
            return "nowhere (the state directory and the temporary directory are not writable)"
        return Path(name)
    return path
