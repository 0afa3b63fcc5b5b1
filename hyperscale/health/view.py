"""How `hyperscale health` shows a report: the shared formats, plus Prometheus text for a
node_exporter textfile collector (no envelope: a collector reads only the exposition)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.health.results import HealthReport
from hyperscale.output import console_for, envelope

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.context import AppContext
    from hyperscale.exit_codes import ExitCode


class HealthOutput(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    prometheus = "prometheus"


@dataclass(frozen=True)
class HealthView:
    report: HealthReport
    fmt: HealthOutput = HealthOutput.table

    @property
    def exit_code(self) -> ExitCode:
        return self.report.exit_code

    def to_data(self) -> Any:
        return self.report.to_data()

    def render(self, console: Console) -> None:
        if self.fmt is HealthOutput.prometheus:
            console.file.write(self.report.prometheus())
            console.file.flush()
        else:
            self.report.render(console)


#: Shows one round's report.
Show = Callable[[HealthReport], None]


@contextmanager
def display(app: AppContext, fmt: HealthOutput, interval: float) -> Iterator[Show]:
    """Where the rounds of ``--watch`` go: redrawn in place on a terminal (table), else one
    after the other (json: an envelope per line; prometheus: an exposition per round)."""
    if fmt is HealthOutput.table and app.stdout_isatty:
        from rich.live import Live

        console = console_for(app)
        with Live(console=console, auto_refresh=False, redirect_stdout=False) as live:

            def redraw(report: HealthReport) -> None:
                from rich.console import Group

                with console.capture() as captured:
                    report.render(console)
                stamp = dt.datetime.now().astimezone().strftime("%H:%M:%S")
                header = f"every {interval:g}s, updated {stamp} (Ctrl-C to stop)"
                live.update(Group(header, captured.get()), refresh=True)

            yield redraw
        return

    def write(report: HealthReport) -> None:
        app.stdout.write(_as_text(app, report, fmt))
        app.stdout.flush()

    yield write


def _as_text(app: AppContext, report: HealthReport, fmt: HealthOutput) -> str:
    document = envelope("health", report.exit_code, report.to_data())
    if fmt is HealthOutput.json:
        return json.dumps(document, separators=(",", ":"), default=str) + "\n"
    if fmt is HealthOutput.yaml:
        import yaml

        return "---\n" + yaml.safe_dump(json.loads(json.dumps(document, default=str)))
    if fmt is HealthOutput.prometheus:
        return report.prometheus() + "\n"
    console = console_for(app)
    with console.capture() as captured:
        report.render(console)
    return captured.get()
