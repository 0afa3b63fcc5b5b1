"""A lag report as `kafka lag` shows it: tables, or a stream format (NDJSON, Prometheus text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.kafka.lag.metrics import prometheus_text
from hyperscale.kafka.lag.results import LagReport
from hyperscale.kafka.lag.table import report_renderables
from hyperscale.output import Result, TextResult, console_for
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
    """The report as tables (json and yaml: the envelope of its data)."""

    report: LagReport

    @property
    def exit_code(self) -> ExitCode:
        return self.report.exit_code

    def to_data(self) -> Any:
        return self.report.to_data()

    def render(self, console: Console) -> None:
        for item in report_renderables(self.report):
            console.print(item)


def lag_result(report: LagReport, fmt: LagOutput) -> Result:
    """The report in ``fmt``: a stream format's text as it is, else the tables' view."""
    if fmt is LagOutput.ndjson:
        return TextResult(report, report.to_ndjson())
    if fmt is LagOutput.prometheus:
        return TextResult(report, prometheus_text(report))
    return LagView(report)


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
