"""How `hyperscale health` shows a report: the shared formats, plus Prometheus text for a
node_exporter textfile collector (no envelope: a collector reads only the exposition)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.health.results import HealthReport
from hyperscale.output import console_for
from hyperscale.watching import envelope_text

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


def health_text(app: AppContext, report: HealthReport, fmt: HealthOutput) -> str:
    """One round of ``--watch`` when piped: an envelope per line (json), a document (yaml),
    an exposition (prometheus) or the tables."""
    document = envelope_text("health", report, fmt.value)
    if document is not None:
        return document
    if fmt is HealthOutput.prometheus:
        return report.prometheus() + "\n"
    return "".join(health_lines(app, report))


def health_lines(app: AppContext, report: HealthReport) -> list[str]:
    """The tables as text (a Live display redraws them in place)."""
    console = console_for(app)
    with console.capture() as captured:
        report.render(console)
    return [captured.get()]
