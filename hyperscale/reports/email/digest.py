"""Building the digest: every collector at once (threads: each waits on a network), each
section timed and stamped; a collector that raises or overruns becomes a "could not collect"
section. Then what changed since the stored previous digest, and the charts over the stored
history. Never prints."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hyperscale.clients.charts import warm_up
from hyperscale.errors import HyperscaleError
from hyperscale.reports.email.collectors import Collector, ReportContext
from hyperscale.reports.email.sections import Chart, Rag, Section, worst

#: Digests kept per environment: the charts' history and the "what changed" baseline.
HISTORY_KEPT = 30
#: A headline figure that moved by less than this share of its last value is left out.
CHANGE_SHARE = 0.1


@dataclass(frozen=True)
class Digest:
    environment: str
    generated_at: float
    sections: list[Section]
    changes: list[str]
    #: When the digest compared against was made (None: the first report).
    previous_at: float | None

    @property
    def overall(self) -> Rag:
        return worst([s.status for s in self.sections])

    @property
    def failed(self) -> list[Section]:
        return [s for s in self.sections if s.status is Rag.failed]

    @property
    def charts(self) -> list[Chart]:
        return [c for s in self.sections for c in s.charts]

    def stored(self) -> dict[str, Any]:
        """What the next report compares with and charts: statuses and headline figures."""
        return {
            "generated_at": self.generated_at,
            "overall": self.overall.value,
            "sections": {
                s.key: {"status": s.status.value, "figures": s.figures} for s in self.sections
            },
        }

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "generated_at": _iso(self.generated_at),
            "overall": self.overall.value,
            "sections": [s.to_data() for s in self.sections],
            "changes": self.changes,
            "previous_at": None if self.previous_at is None else _iso(self.previous_at),
        }


def _iso(stamp: float) -> str:
    return dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat(timespec="seconds")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, HyperscaleError):
        return " ".join(exc.lines()[0].split())
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _run(
    key: str,
    title: str,
    collector: Collector,
    ctx: ReportContext,
    finish: Callable[[Section], Section],
) -> Section:
    started_wall, started = time.time(), time.perf_counter()
    try:
        got = collector(ctx)
    except Exception as exc:  # noqa: BLE001 - a collector's failure is a section, never the end
        return Section(
            key,
            title,
            Rag.failed,
            "",
            started_wall,
            time.perf_counter() - started,
            error=_reason(exc),
        )
    collected = Section(
        key,
        title,
        got.status,
        got.headline,
        started_wall,
        time.perf_counter() - started,
        got.tables,
        got.figures,
        got.charts,
        got.notes,
    )
    try:
        return finish(collected)
    except Exception as exc:  # noqa: BLE001 - a chart that cannot be drawn leaves the figures
        return replace(collected, charts=[], notes=[*collected.notes, f"no chart: {_reason(exc)}"])


def _as_is(section: Section) -> Section:
    return section


def collect(
    ctx: ReportContext,
    collectors: list[tuple[str, str, Collector]],
    timeout_s: float,
    finish: Callable[[Section], Section] = _as_is,
) -> list[Section]:
    """Every collector at once, each section then passed through ``finish`` in its collector's
    thread (charts are drawn while other collectors still wait); those still running after
    ``timeout_s`` are reported as such (their threads finish on their own, unwaited)."""
    pool = futures.ThreadPoolExecutor(max_workers=len(collectors) + 1)
    started = time.time()
    jobs = [pool.submit(_run, key, title, fn, ctx, finish) for key, title, fn in collectors]
    pool.submit(warm_up)  # the charts' library loads while the collectors wait
    done, _ = futures.wait(jobs, timeout=timeout_s)
    pool.shutdown(wait=False, cancel_futures=True)
    sections = []
    for job, (key, title, _) in zip(jobs, collectors, strict=True):
        if job in done:
            sections.append(job.result())
        else:
            sections.append(
                Section(
                    key,
                    title,
                    Rag.failed,
                    "",
                    started,
                    timeout_s,
                    error=f"did not finish within {timeout_s:g} s",
                )
            )
    return sections


# -- the history: the previous digests of this environment -------------------------------------


def history_path(state_dir: Path, environment: str) -> Path:
    return state_dir / "reports" / environment / "digests.json"


def load_history(state_dir: Path, environment: str) -> list[dict[str, Any]]:
    try:
        document = json.loads(history_path(state_dir, environment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in document if isinstance(d, dict)] if isinstance(document, list) else []


def save_history(state_dir: Path, environment: str, history: list[dict[str, Any]]) -> Path:
    path = history_path(state_dir, environment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(history[-HISTORY_KEPT:], indent=1), encoding="utf-8")
    tmp.replace(path)
    return path


def changes_since(previous: dict[str, Any] | None, sections: list[Section]) -> list[str]:
    """Status changes, new and cleared failures, and headline figures that moved."""
    if previous is None:
        return ["first report for this environment: nothing to compare with yet"]
    before: dict[str, Any] = previous.get("sections", {})
    lines = []
    for s in sections:
        old = before.get(s.key)
        if old is None:
            lines.append(f"{s.title}: new in this report ({s.status.label})")
            continue
        old_status = Rag(old.get("status", "none"))
        if old_status is not s.status:
            lines.append(f"{s.title}: {old_status.label} -> {s.status.label}")
        old_figures: dict[str, float] = old.get("figures", {})
        for name, value in s.figures.items():
            was = old_figures.get(name)
            if was is not None and _moved(was, value):
                lines.append(f"{s.title}: {_figure(name)} {was:,.2f} -> {value:,.2f}")
    return lines or ["nothing changed: every status and headline figure is as it was"]


def _moved(was: float, now: float) -> bool:
    """A change worth a line: a tenth or more of what it was (latency jitter is not news)."""
    return abs(now - was) >= max(0.01, abs(was) * CHANGE_SHARE)


def _figure(name: str) -> str:
    what, _, whom = name.partition(":")
    return f"{what.replace('_', ' ')} ({whom})" if whom else what.replace("_", " ")


#: The charts drawn over the stored reports and this one, by section key: (chart key, title,
#: figure-name prefixes, unit).
HISTORY_CHARTS = {
    "kafka_lag": ("lag", "Consumer lag per group (messages)", ("lag_messages:",), "messages"),
    "health": ("latency", "Endpoint latency by report (ms)", ("latency_ms:",), "ms"),
    "alb": ("alb-latency", "ALB p95 and p99 by report (ms)", ("p95_ms", "p99_ms"), "ms"),
}


def with_history_chart(section: Section, history: list[dict[str, Any]], now: float) -> Section:
    """The section with its chart over the stored reports and this one, when it has one (lag
    per group, endpoint latency, ALB percentiles). Needs only this section and the history,
    so it is drawn as soon as the section's collector returns."""
    plan = HISTORY_CHARTS.get(section.key)
    if plan is None or section.status is Rag.failed:
        return section
    chart_key, title, prefixes, unit = plan
    mine = {section.key: {"figures": section.figures}}
    points = [*history, {"generated_at": now, "sections": mine}]
    labels = [
        dt.datetime.fromtimestamp(p["generated_at"], dt.UTC).strftime("%m-%d %H:%M") for p in points
    ]
    names = sorted(n for n in section.figures if n.startswith(prefixes))
    series = {n.partition(":")[2] or n: [_point(p, section.key, n) for p in points] for n in names}
    if not series:
        return section
    chart = Chart(chart_key, title, "line", labels, series, unit)
    return replace(section, charts=[*section.charts, chart])


def _point(point: dict[str, Any], key: str, name: str) -> float | None:
    value = point.get("sections", {}).get(key, {}).get("figures", {}).get(name)
    return None if value is None else float(value)
