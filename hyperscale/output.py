"""One renderer for every command: human tables on a terminal, a versioned envelope for machines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from hyperscale.errors import summary
from hyperscale.exit_codes import ExitCode
from hyperscale.progress import Progress, quiet

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.context import AppContext

#: Bump when a field of the envelope changes meaning or disappears; adding fields is compatible.
ENVELOPE_VERSION = "hyperscale.dev/v1"


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"


class Reported(Protocol):
    """Data for machines and an exit code: what every result has."""

    @property
    def exit_code(self) -> ExitCode: ...

    def to_data(self) -> Any: ...


class Result(Reported, Protocol):
    """What a core function returns: data for machines, a view for people, and an exit code."""

    def render(self, console: Console) -> None: ...


@dataclass(frozen=True)
class TextResult:
    """A result shown in a text format of its own (CSV, a Prometheus exposition, NDJSON): the
    text as it is, with no envelope and no tables; the exit code stays the result's."""

    result: Reported
    text: str

    @property
    def exit_code(self) -> ExitCode:
        return self.result.exit_code

    def to_data(self) -> Any:
        return self.result.to_data()

    def render(self, console: Console) -> None:
        console.file.write(self.text)
        console.file.flush()


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    hint: str | None = None
    details: list[str] = field(default_factory=list)


def status_word(exit_code: ExitCode) -> str:
    if exit_code is ExitCode.OK:
        return "ok"
    if exit_code is ExitCode.CHECK_FAILED:
        return "failed"
    return "error"


def envelope(
    command: str, exit_code: ExitCode, data: Any, errors: list[ErrorInfo] | None = None
) -> dict[str, Any]:
    return {
        "apiVersion": ENVELOPE_VERSION,
        "command": command,
        "status": status_word(exit_code),
        "exit_code": int(exit_code),
        "data": data,
        "errors": [
            {"code": e.code, "message": e.message, "hint": e.hint, "details": e.details}
            for e in errors or []
        ],
    }


def console_for(app: AppContext, *, stderr: bool = False) -> Console:
    from rich.console import Console

    stream = app.stderr if stderr else app.stdout
    tty = app.stderr_isatty if stderr else app.stdout_isatty
    return Console(
        file=stream,
        no_color=app.no_color,
        force_terminal=tty and not app.no_color,
        highlight=False,
        soft_wrap=not tty,
    )


@contextmanager
def progress_spinner(app: AppContext, title: str) -> Iterator[Progress]:
    """A spinner showing the latest step on a terminal; silence when piped or in CI.

    It appears at the first step reported, not before: a core function may still ask for
    confirmation (hyperscale.safety) before its first step, and a prompt under a spinner
    would be overwritten.
    """
    if not app.interactive:
        yield quiet
        return
    with ExitStack() as stack:
        shown: list[Callable[[str], None]] = []

        def update(step: str) -> None:
            if not shown:
                status = console_for(app, stderr=True).status(title)
                shown.append(stack.enter_context(status).update)
            shown[0](step)

        yield update


@contextmanager
def progress_events(app: AppContext, title: str) -> Iterator[Progress]:
    """The spinner on a terminal; piped, one JSON line per step on stderr
    (``{"event": "progress", "title": ..., "step": ..., "elapsed_s": ...}``), so a script or
    CI log sees what a long command is doing while stdout stays the result alone."""
    if app.interactive:
        with progress_spinner(app, title) as spinner:
            yield spinner
        return
    import time

    started = time.monotonic()

    def emit(step: str) -> None:
        line = {
            "event": "progress",
            "title": title,
            "step": step,
            "elapsed_s": round(time.monotonic() - started, 2),
        }
        app.stderr.write(json.dumps(line) + "\n")
        app.stderr.flush()

    yield emit


@contextmanager
def progress_bar(
    app: AppContext, title: str, *, rate_unit: str | None = None
) -> Iterator[Callable[[int, int], None]]:
    """A bar of (done, total) on a terminal, gone when the work ends; silence when piped.

    Like the spinner, it appears at the first update, after any confirmation prompt. With
    ``rate_unit`` ("rev") it also shows the rate, "41 rev/s".
    """
    if not app.interactive:
        yield lambda _done, _total: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.finished_speed or task.speed
            return Text(f"{speed:.0f} {rate_unit}/s" if speed else f"- {rate_unit}/s")

    rate = (RateColumn(),) if rate_unit else ()
    columns = (title, BarColumn(), MofNCompleteColumn(), *rate, TimeRemainingColumn())
    with ExitStack() as stack:
        bars: list[Callable[[int, int], None]] = []

        def update(done: int, total: int) -> None:
            if not bars:
                bar = Progress(*columns, console=console_for(app, stderr=True), transient=True)
                stack.enter_context(bar)
                task = bar.add_task(title, total=None)
                bars.append(lambda d, t: bar.update(task, completed=d, total=t))
            bars[0](done, total)

        yield update


#: orjson with these options writes what ``json.dumps(indent=2, default=str)`` would, byte for
#: byte (datetimes and dataclasses through ``str`` too), about ten times faster: the JSON of
#: `kafka lag` over 500 groups took longer to write than the lag took to read.
_ORJSON_OPTIONS = (
    orjson.OPT_INDENT_2
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _json_text(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=_ORJSON_OPTIONS, default=str).decode()


def write_envelope(app: AppContext, fmt: OutputFormat, document: dict[str, Any]) -> None:
    if fmt is OutputFormat.json:
        app.stdout.write(_json_text(document) + "\n")
    else:
        import yaml

        app.stdout.write(yaml.safe_dump(orjson.loads(_json_text(document)), sort_keys=False))
    app.stdout.flush()


def emit_result(app: AppContext, fmt: OutputFormat, command: str, result: Result) -> ExitCode:
    code = result.exit_code
    if fmt is OutputFormat.table:
        result.render(console_for(app))
    else:
        write_envelope(app, fmt, envelope(command, code, result.to_data()))
    return code


def emit_error(
    app: AppContext, fmt: OutputFormat, command: str, exit_code: ExitCode, error: ErrorInfo
) -> None:
    """One clear line on stderr; in json/yaml mode the envelope on stdout carries it too."""
    console = console_for(app, stderr=True)
    console.print(f"[bold red]error:[/] {_escape(summary(error.message, error.hint))}")
    for detail in error.details:
        console.print(f"  {_escape(detail)}")
    if fmt is not OutputFormat.table:
        write_envelope(app, fmt, envelope(command, exit_code, None, [error]))


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
