"""A lag report as `kafka lag` shows it: tables, or a stream format (NDJSON, Prometheus text)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.kafka.lag.metrics import prometheus_text
from hyperscale.kafka.lag.results import LagReport
from hyperscale.kafka.lag.table import report_renderables

if TYPE_CHECKING:
    from rich.console import Console

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
