"""`--watch`: a command's report again every ``--interval`` seconds.

On a terminal with the table format the report is redrawn in place (rich Live). Otherwise each
one is written after the last, in the chosen format: one compact JSON envelope per line with
``-o json`` (so the stream is NDJSON), a YAML document each with ``-o yaml``, or the command's
own text.

It runs until Ctrl-C (or SIGTERM), which ends it normally (exit 0: stopping a watch is what a
user does; so does a reader that goes away, as ``| head`` does), or until ``--count N``
reports (exit: the last report's, as without --watch). Ctrl-C is answered between reports, so
it never lands inside a client library's C code; the report in flight is bounded by the
command's own timeouts, and a second Ctrl-C stops at once. A report that fails after the first
is shown as an error and the watch goes on; the first failing is the command's error.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hyperscale.errors import ExternalSystemError
from hyperscale.exit_codes import ExitCode
from hyperscale.interrupts import stop_requests
from hyperscale.output import Reported, console_for, envelope

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from hyperscale.context import AppContext


R = TypeVar("R", bound=Reported)


@dataclass(frozen=True)
class WatchResult(Generic[R]):
    """What a watch leaves after it stopped; everything it had to say is already written."""

    count_name: str  # what the JSON calls the reports shown: "refreshes", "rounds"
    shown: int
    last: R | None
    stopped_by_user: bool

    @property
    def exit_code(self) -> ExitCode:
        if self.stopped_by_user or self.last is None:
            return ExitCode.OK
        return self.last.exit_code

    def to_data(self) -> Any:
        return {self.count_name: self.shown, "stopped_by_user": self.stopped_by_user}

    def render(self, console: Console) -> None:
        """Nothing: each report was shown as it came."""


def watch(
    take: Callable[[], R],
    show: Callable[[R | str], None],
    interval: float,
    count: int | None,
    count_name: str,
) -> WatchResult[R]:
    shown = 0
    last: R | None = None
    with stop_requests() as stop:
        try:
            while (count is None or shown < count) and not stop.is_set():
                if shown and stop.wait(interval):
                    break
                try:
                    last = take()
                except ExternalSystemError as exc:
                    if shown == 0:
                        raise
                    show(exc.message)
                else:
                    show(last)
                shown += 1
        except KeyboardInterrupt:  # a second Ctrl-C, or the reader went away
            return WatchResult(count_name, shown, last, stopped_by_user=True)
        return WatchResult(count_name, shown, last, stopped_by_user=stop.is_set())


@contextmanager
def display(
    app: AppContext,
    live: bool,
    interval: float,
    renderables: Callable[[R], Sequence[RenderableType]],
    as_text: Callable[[R], str],
) -> Iterator[Callable[[R | str], None]]:
    """Where the reports go: redrawn in place (``live``, on a terminal), else written one
    after the other as ``as_text`` makes them, errors to stderr."""
    if live and app.stdout_isatty:
        with _live(app, interval, renderables) as show:
            yield show
        return
    yield _stream(app, as_text)


def envelope_text(command: str, report: Reported, fmt: str) -> str | None:
    """The report's envelope as one JSON line or one YAML document; None for other formats."""
    if fmt not in ("json", "yaml"):
        return None
    document = envelope(command, report.exit_code, report.to_data())
    if fmt == "json":
        return json.dumps(document, separators=(",", ":"), default=str) + "\n"
    import yaml

    return "---\n" + yaml.safe_dump(json.loads(json.dumps(document, default=str)))


@contextmanager
def _live(
    app: AppContext, interval: float, renderables: Callable[[R], Sequence[RenderableType]]
) -> Iterator[Callable[[R | str], None]]:
    from rich.console import Group
    from rich.live import Live
    from rich.markup import escape

    shown: list[RenderableType] = []
    with Live(console=console_for(app), auto_refresh=False, redirect_stdout=False) as live:

        def show(item: R | str) -> None:
            stamp = dt.datetime.now().astimezone().strftime("%H:%M:%S")
            if isinstance(item, str):
                header = f"[bold red]refresh failed at {stamp}:[/] {escape(item)}"
            else:
                header = f"every {interval:g}s, updated {stamp} (Ctrl-C to stop)"
                shown[:] = renderables(item)
            live.update(Group(header, *shown), refresh=True)

        yield show


def _stream(app: AppContext, as_text: Callable[[R], str]) -> Callable[[R | str], None]:
    def show(item: R | str) -> None:
        if isinstance(item, str):
            app.stderr.write(f"error: {item}\n")
            app.stderr.flush()
            return
        try:
            app.stdout.write(as_text(item))
            app.stdout.flush()
        except BrokenPipeError:  # `| head -n 5`: the reader has what it wanted
            _silence(app.stdout)
            raise KeyboardInterrupt from None

    return show


def _silence(stream: Any) -> None:
    """Point a closed pipe's descriptor at /dev/null, so the exit's flush does not complain."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's StringIO): nothing will flush it at exit
