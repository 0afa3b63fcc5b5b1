"""How `hyperscale health` shows a report: the shared formats, plus Prometheus text for a
node_exporter textfile collector (no envelope: a collector reads only the exposition)."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from hyperscale.health.results import HealthReport
from hyperscale.output import console_for
from hyperscale.watching import envelope_text

if TYPE_CHECKING:
    from hyperscale.context import AppContext


class HealthOutput(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    prometheus = "prometheus"


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
