"""A lag report as `kafka lag` shows it: tables, or a stream format (NDJSON, Prometheus text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.kafka.lag.metrics import prometheus_text
from hyperscale.kafka.lag.results import LagReport
from hyperscale.kafka.lag.table import report_renderables
from hyperscale.output import console_for
from hyperscale.watching import envelope_text

if TYPE_CHECKING:
    from rich.console import Console

    from hyperscale.context import AppContext
    from hyperscale.exit_codes import ExitCode


class LagOutput(StrEnum):
    """The shared formats plus two that only a lag report has: they are streams of samples,
    not documents, so they carry no envelope (errors still go to stderr as one line)."""

    table = "table"
    json = "json"
    yaml = "yaml"
    ndjson = "ndjson"
    prometheus = "prometheus"

    @property
    def textual(self) -> bool:
        return self in (LagOutput.ndjson, LagOutput.prometheus)


@dataclass(frozen=True)
class LagView:
    """The report with the format it is shown in (json and yaml: the envelope of its data)."""

    report: LagReport
    fmt: LagOutput = LagOutput.table

    @property
    def exit_code(self) -> ExitCode:
        return self.report.exit_code

    def to_data(self) -> Any:
        return self.report.to_data()

    def render(self, console: Console) -> None:
        if self.fmt is LagOutput.ndjson:
            console.file.write(self.report.to_ndjson())
            console.file.flush()
        elif self.fmt is LagOutput.prometheus:
            console.file.write(prometheus_text(self.report))
            console.file.flush()
        else:
            for item in report_renderables(self.report):
                console.print(item)


def lag_text(app: AppContext, report: LagReport, fmt: LagOutput) -> str:
    """One refresh of ``--watch`` when piped: a document, the stream's lines, or the tables
    under the time they were measured."""
    document = envelope_text("kafka lag", report, fmt.value)
    if document is not None:
        return document
    if fmt is LagOutput.ndjson:
        return report.to_ndjson()
    if fmt is LagOutput.prometheus:
        return prometheus_text(report) + "\n"
    console = console_for(app)
    with console.capture() as captured:
        LagView(report).render(console)
    measured = dt.datetime.fromtimestamp(report.measured_at, dt.UTC).isoformat(timespec="seconds")
    return f"-- {measured}\n{captured.get()}"
