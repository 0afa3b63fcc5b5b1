"""`hyperscale kafka lag --watch`: the report again every ``--interval`` seconds.

On a terminal with the table format the tables are redrawn in place (rich Live). Otherwise
each refresh is written after the last one, in the chosen format: one compact JSON envelope
per line with ``-o json`` (so the stream is NDJSON), a YAML document each with ``-o yaml``,
the partition lines with ``-o ndjson``, an exposition with ``-o prometheus``, the tables with
``-o table``.

It runs until Ctrl-C, which ends it normally (exit 0: stopping a watch is what a user does;
so does a reader that goes away, as ``| head`` does),
or until ``--count N`` refreshes (exit: the last report's, as without --watch). A refresh that
fails after the first is shown as an error and the watch goes on; the first failing is the
command's error, as without --watch.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.errors import ExternalSystemError
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.lag.metrics import prometheus_text
from hyperscale.kafka.lag.table import report_renderables
from hyperscale.kafka.lag.view import LagView
from hyperscale.output import console_for, envelope

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.context import AppContext
    from hyperscale.kafka.lag.results import LagReport

#: Shows one refresh: a report, or the error of a refresh that failed.
Show = Callable[["LagReport | str"], None]


@dataclass(frozen=True)
class WatchResult:
    """What a watch leaves after it stopped; everything it had to say is already written."""

    refreshes: int
    last: LagReport | None
    stopped_by_user: bool

    @property
    def exit_code(self) -> ExitCode:
        if self.stopped_by_user or self.last is None:
            return ExitCode.OK
        return self.last.exit_code

    def to_data(self) -> Any:
        return {"refreshes": self.refreshes, "stopped_by_user": self.stopped_by_user}

    def render(self, console: Console) -> None:
        """Nothing: each refresh was shown as it came."""


def watch(
    take: Callable[[], LagReport],
    show: Show,
    interval: float,
    count: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> WatchResult:
    refreshes = 0
    last: LagReport | None = None
    try:
        while count is None or refreshes < count:
            if refreshes:
                sleep(interval)
            try:
                last = take()
            except ExternalSystemError as exc:
                if refreshes == 0:
                    raise
                show(exc.message)
            else:
                show(last)
            refreshes += 1
    except KeyboardInterrupt:
        return WatchResult(refreshes, last, stopped_by_user=True)
    return WatchResult(refreshes, last, stopped_by_user=False)


@contextmanager
def display(app: AppContext, fmt: str, interval: float) -> Iterator[Show]:
    """Where the refreshes go: a Live table on a terminal, else a stream in ``fmt``."""
    if fmt == "table" and app.stdout_isatty:
        with _live(app, interval) as show:
            yield show
        return
    yield _stream(app, fmt)


@contextmanager
def _live(app: AppContext, interval: float) -> Iterator[Show]:
    from rich.console import Group
    from rich.live import Live
    from rich.markup import escape

    console = console_for(app)
    shown: list[Any] = []
    with Live(console=console, auto_refresh=False, redirect_stdout=False) as live:

        def show(item: LagReport | str) -> None:
            stamp = dt.datetime.now().astimezone().strftime("%H:%M:%S")
            if isinstance(item, str):
                header = f"[bold red]refresh failed at {stamp}:[/] {escape(item)}"
            else:
                header = f"every {interval:g}s, updated {stamp} (Ctrl-C to stop)"
                shown[:] = report_renderables(item)
            live.update(Group(header, *shown), refresh=True)

        yield show


def _stream(app: AppContext, fmt: str) -> Show:
    def show(item: LagReport | str) -> None:
        if isinstance(item, str):
            app.stderr.write(f"error: {item}\n")
            app.stderr.flush()
            return
        try:
            app.stdout.write(_as_text(app, item, fmt))
            app.stdout.flush()
        except BrokenPipeError:  # `| head -n 5`: the reader has what it wanted
            _silence(app.stdout)
            raise KeyboardInterrupt from None

    return show


def _silence(stream: Any) -> None:
    """Point a closed pipe's descriptor at /dev/null, so the exit's flush does not complain."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (a test's StringIO): nothing will flush it at exit


def _as_text(app: AppContext, report: LagReport, fmt: str) -> str:
    if fmt == "json":
        document = envelope("kafka lag", report.exit_code, report.to_data())
        return json.dumps(document, separators=(",", ":"), default=str) + "\n"
    if fmt == "yaml":
        import yaml

        document = envelope("kafka lag", report.exit_code, report.to_data())
        return "---\n" + yaml.safe_dump(json.loads(json.dumps(document, default=str)))
    if fmt == "ndjson":
        return report.to_ndjson()
    if fmt == "prometheus":
        return prometheus_text(report) + "\n"
    console = console_for(app)
    with console.capture() as captured:
        LagView(report).render(console)
    measured = dt.datetime.fromtimestamp(report.measured_at, dt.UTC).isoformat(timespec="seconds")
    return f"-- {measured}\n{captured.get()}"
