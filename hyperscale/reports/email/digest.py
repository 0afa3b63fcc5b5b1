"""Building the digest: every collector at once (threads: each waits on a network), each
section timed and stamped; a collector that raises or overruns becomes a "could not collect"
section. Then what changed since the stored previous digest, and the charts over the stored
history. Never prints."""

from __future__ import annotations

import datetime as dt
import json
import time
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


def _run(key: str, title: str, collector: Collector, ctx: ReportContext) -> Section:
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
    return Section(
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


def collect(
    ctx: ReportContext, collectors: list[tuple[str, str, Collector]], timeout_s: float
) -> list[Section]:
    """Every collector at once; those still running after ``timeout_s`` are reported as such
    (their threads are left to finish on their own: the report does not wait)."""
    pool = futures.ThreadPoolExecutor(max_workers=len(collectors) + 1)
    started = time.time()
    jobs = [pool.submit(_run, key, title, fn, ctx) for key, title, fn in collectors]
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


def with_history_charts(
    sections: list[Section], history: list[dict[str, Any]], now: float
) -> list[Section]:
    """Charts over the stored reports and this one: consumer lag per group (Kafka section),
    endpoint latency and ALB p95 (health section)."""
    plans = {
        "kafka_lag": ("lag", "Consumer lag per group (messages)", ["lag_messages:"], "messages"),
        "health": ("latency", "Latency by report (ms)", ["latency_ms:", "p95_ms"], "ms"),
    }
    by_key = {s.key: s for s in sections}
    points = [
        *history,
        {"generated_at": now, "sections": {s.key: {"figures": s.figures} for s in sections}},
    ]
    labels = [
        dt.datetime.fromtimestamp(p["generated_at"], dt.UTC).strftime("%m-%d %H:%M") for p in points
    ]
    out = []
    for s in sections:
        plan = plans.get(s.key)
        if plan is None or s.status is Rag.failed:
            out.append(s)
            continue
        chart_key, title, prefixes, unit = plan
        sources = [by_key[s.key]] + (
            [by_key["alb"]] if s.key == "health" and "alb" in by_key else []
        )
        names = sorted(
            {n for src in sources for n in src.figures if any(n.startswith(p) for p in prefixes)}
        )
        series: dict[str, list[float | None]] = {}
        for name in names:
            values = [_point(p, name) for p in points]
            series[name.partition(":")[2] or name] = values
        if not series:
            out.append(s)
            continue
        out.append(
            replace(s, charts=[*s.charts, Chart(chart_key, title, "line", labels, series, unit)])
        )
    return out


def _point(point: dict[str, Any], name: str) -> float | None:
    for section in point.get("sections", {}).values():
        value = section.get("figures", {}).get(name)
        if value is not None:
            return float(value)
    return None
