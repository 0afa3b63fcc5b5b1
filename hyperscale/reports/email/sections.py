"""The digest's parts: a section per collector with its red/amber/green status, when its data
was collected, its tables, headline figures (compared with the last report) and charts."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Rag(StrEnum):
    """A section's status; ``failed`` is a collector that could not collect, ``none`` a part
    this environment does not have (no load balancer on the local target)."""

    green = "green"
    amber = "amber"
    red = "red"
    failed = "failed"
    none = "none"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def label(self) -> str:
        return _LABEL[self]


_SEVERITY = {Rag.none: 0, Rag.green: 1, Rag.amber: 2, Rag.red: 3, Rag.failed: 4}
_LABEL = {
    Rag.green: "GREEN",
    Rag.amber: "AMBER",
    Rag.red: "RED",
    Rag.failed: "NOT COLLECTED",
    Rag.none: "N/A",
}


def worst(statuses: list[Rag]) -> Rag:
    """The digest's overall status: a failed collector makes it red, not "failed"."""
    top = max(statuses, key=lambda s: s.severity, default=Rag.green)
    return Rag.red if top is Rag.failed else (Rag.green if top is Rag.none else top)


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[str]]

    def to_data(self) -> dict[str, Any]:
        return {"columns": self.columns, "rows": self.rows}


@dataclass(frozen=True)
class Chart:
    """A chart to draw as a PNG: ``kind`` line or bar, one x label per point."""

    key: str
    title: str
    kind: str
    labels: list[str]
    series: dict[str, list[float | None]]
    unit: str
    #: The drawn PNG, once drawn (in the collector's thread, see digest.collect).
    png: bytes | None = None

    @property
    def content_id(self) -> str:
        return f"chart-{self.key}"


@dataclass(frozen=True)
class Collected:
    """What a collector returns: the runner adds the key, title and timing."""

    status: Rag
    headline: str
    tables: list[Table] = field(default_factory=list)
    #: Headline figures by name: compared with the previous report's, and charted over time.
    figures: dict[str, float] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    status: Rag
    headline: str
    #: Unix time the collector started, and how long it took.
    collected_at: float
    seconds: float
    tables: list[Table] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Why the collector could not collect (status ``failed``).
    error: str | None = None

    def to_data(self) -> dict[str, Any]:
        import datetime as dt

        return {
            "key": self.key,
            "title": self.title,
            "status": self.status.value,
            "headline": self.headline,
            "collected_at": dt.datetime.fromtimestamp(self.collected_at, dt.UTC).isoformat(),
            "seconds": round(self.seconds, 3),
            "figures": self.figures,
            "tables": [t.to_data() for t in self.tables],
            "charts": [c.content_id for c in self.charts],
            "notes": self.notes,
            "error": self.error,
        }
