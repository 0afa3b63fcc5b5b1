"""`hyperscale report cost`: one Cost Explorer request covers every window (month to date, the
same days of last month, yesterday, the last 7 days: Cost Explorer charges per request), cached
in the state directory; the forecast, with a linear fallback; and the savings findings.
Never prints."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from hyperscale.clients.aws import aws_client
from hyperscale.clients.costs import CostRow, cost_and_usage, cost_forecast
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import HyperscaleError, UsageError
from hyperscale.reports.cost.results import CostReport, Forecast, Mover, Period, cents
from hyperscale.reports.cost.savings import savings_findings

#: Cost Explorer's data lags by hours and charges per request: a day's report reuses it.
DEFAULT_MAX_AGE_S = 6 * 3600
#: An AWS error in the forecast's note is cut to this (moto answers with a whole HTML page).
_NOTE_CHARS = 120


@dataclass(frozen=True)
class CostQuery:
    #: The report's "today" (UTC): windows end the day before it. None: today.
    as_of: dt.date | None = None
    #: "service" or "tag:KEY".
    group_by: str = "service"
    exclude_credits: bool = True
    #: Reuse a cached answer younger than this; ``refresh`` always asks Cost Explorer.
    max_age_s: float = DEFAULT_MAX_AGE_S
    refresh: bool = False
    top: int = 5
    findings: bool = True
    snapshot_days: int = 90


@dataclass(frozen=True)
class Windows:
    month_start: dt.date
    as_of: dt.date
    last_month_start: dt.date
    last_month_end: dt.date
    week_start: dt.date
    yesterday: dt.date

    @property
    def read_start(self) -> dt.date:
        return min(self.last_month_start, self.week_start)


def windows(as_of: dt.date) -> Windows:
    """Month to date is [first of the month, as_of); the same days of last month are as many
    days from its first, cut at its end (31 March compares with 28 February)."""
    month_start = as_of.replace(day=1)
    last_month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    elapsed = (as_of - month_start).days
    last_month_end = min(last_month_start + dt.timedelta(days=elapsed), month_start)
    return Windows(
        month_start=month_start,
        as_of=as_of,
        last_month_start=last_month_start,
        last_month_end=last_month_end,
        week_start=as_of - dt.timedelta(days=7),
        yesterday=as_of - dt.timedelta(days=1),
    )


def group_dimension(group_by: str) -> dict[str, str]:
    if group_by == "service":
        return {"Type": "DIMENSION", "Key": "SERVICE"}
    key = group_by.removeprefix("tag:")
    if not group_by.startswith("tag:") or not key:
        raise UsageError(f"--group-by {group_by!r}: write service or tag:KEY (tag:team)")
    return {"Type": "TAG", "Key": key}


def cost_report(
    env: Environment,
    app: AppContext,
    query: CostQuery,
    *,
    make_client: Callable[[str], Any] | None = None,
    now: float | None = None,
) -> CostReport:
    make = make_client or (lambda service: aws_client(env.aws, service, timeout=20, attempts=3))
    moment = time.time() if now is None else now
    as_of = query.as_of or dt.datetime.fromtimestamp(moment, dt.UTC).date()
    w = windows(as_of)
    dimension = group_dimension(query.group_by)
    rows, fetched_at, cached = _rows(env, app, query, w, dimension, make, moment)
    unit = rows[0].unit if rows else "USD"
    findings, findings_error = [], None
    if query.findings:
        try:
            findings = savings_findings(env, make, moment, query.snapshot_days)
        except HyperscaleError as exc:
            findings_error = exc.message
    return summarize(
        env.name,
        query,
        w,
        rows,
        unit=unit,
        # One attempt: the forecast is optional (there is a fallback), and a retried 500 only
        # delays the report.
        forecast=_forecast(
            env,
            make_client or (lambda s: aws_client(env.aws, s, timeout=20, attempts=1)),
            w,
            rows,
            query.exclude_credits,
        ),
        fetched_at=fetched_at,
        from_cache=cached,
        findings=findings,
        findings_error=findings_error,
        budget=None
        if env.reports.cost.budget_usd is None
        else Decimal(str(env.reports.cost.budget_usd)),
    )


def summarize(
    environment: str, query: CostQuery, w: Windows, rows: list[CostRow], **rest: Any
) -> CostReport:
    """The windows' totals, the movers and the days from the rows: exact decimal sums."""

    # Each total is summed exactly, then rounded to the cent once: what the bill shows, so
    # a change is the difference of the two figures printed beside it.
    def total(start: dt.date, end: dt.date) -> Decimal:
        return cents(sum((r.amount for r in rows if start <= r.day < end), Decimal(0)))

    def per_group(start: dt.date, end: dt.date) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for r in rows:
            if start <= r.day < end:
                sums[r.group] += r.amount
        return sums

    now_groups = per_group(w.month_start, w.as_of)
    then_groups = per_group(w.last_month_start, w.last_month_end)
    movers = [
        Mover(g, cents(now_groups.get(g, Decimal(0))), cents(then_groups.get(g, Decimal(0))))
        for g in sorted(set(now_groups) | set(then_groups))
    ]
    movers = [m for m in movers if m.change != 0]
    movers.sort(key=lambda m: (-abs(m.change), m.group))
    days: dict[dt.date, Decimal] = defaultdict(Decimal)
    for r in rows:
        days[r.day] += r.amount
    return CostReport(
        environment=environment,
        as_of=w.as_of,
        group_by=query.group_by,
        credits_excluded=query.exclude_credits,
        month_to_date=Period(
            "month to date", w.month_start, w.as_of, total(w.month_start, w.as_of)
        ),
        same_days_last_month=Period(
            "same days last month",
            w.last_month_start,
            w.last_month_end,
            total(w.last_month_start, w.last_month_end),
        ),
        yesterday=Period("yesterday", w.yesterday, w.as_of, total(w.yesterday, w.as_of)),
        last_7_days=Period("last 7 days", w.week_start, w.as_of, total(w.week_start, w.as_of)),
        movers=movers[: query.top],
        daily=sorted(days.items()),
        **rest,
    )


def _forecast(
    env: Environment,
    make: Callable[[str], Any],
    w: Windows,
    rows: list[CostRow],
    exclude_credits: bool,
) -> Forecast:
    """Cost Explorer's forecast of the rest of the month plus month to date; when it cannot
    answer (too little history, or an endpoint without it), month to date per day times the
    month's days, and the note says why."""
    mtd = sum((r.amount for r in rows if w.month_start <= r.day < w.as_of), Decimal(0))
    days_in_month = calendar.monthrange(w.as_of.year, w.as_of.month)[1]
    next_month = w.month_start + dt.timedelta(days=days_in_month)
    try:
        rest = cost_forecast(
            env.aws, make("ce"), w.as_of, next_month, exclude_credits=exclude_credits
        )
    except HyperscaleError as exc:
        elapsed = (w.as_of - w.month_start).days
        reason = " ".join(re.sub(r"<[^>]*>", " ", exc.message).split())  # an HTML error page
        reason = reason if len(reason) <= _NOTE_CHARS else reason[: _NOTE_CHARS - 3] + "..."
        note = f"Cost Explorer forecast unavailable: {reason}"
        if elapsed == 0:
            return Forecast(None, "none", note)
        return Forecast(mtd / elapsed * days_in_month, "linear", note)
    return Forecast(mtd + rest, "cost-explorer")


# -- the cache: Cost Explorer charges per request ----------------------------------------------


def _rows(
    env: Environment,
    app: AppContext,
    query: CostQuery,
    w: Windows,
    dimension: dict[str, str],
    make: Callable[[str], Any],
    now: float,
) -> tuple[list[CostRow], float, bool]:
    key = json.dumps(
        [
            env.name,
            env.aws.account_id,
            w.read_start.isoformat(),
            w.as_of.isoformat(),
            dimension,
            query.exclude_credits,
        ]
    )
    path = cache_dir(app) / f"{env.name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if not query.refresh:
        cached = _read_cache(path, now, query.max_age_s)
        if cached is not None:
            return cached[0], cached[1], True
    rows = cost_and_usage(
        env.aws, make("ce"), w.read_start, w.as_of, dimension, exclude_credits=query.exclude_credits
    )
    _write_cache(path, rows, now)
    return rows, now, False


def cache_dir(app: AppContext) -> Path:
    return app.state_dir / "reports" / "cost-cache"


def _read_cache(path: Path, now: float, max_age_s: float) -> tuple[list[CostRow], float] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        fetched_at = float(document["fetched_at"])
        if now - fetched_at > max_age_s:
            return None
        rows = [
            CostRow(
                dt.date.fromisoformat(r["day"]),
                r["group"],
                Decimal(r["amount"]),
                r["unit"],
                r["estimated"],
            )
            for r in document["rows"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rows, fetched_at


def _write_cache(path: Path, rows: list[CostRow], now: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "fetched_at": now,
        "rows": [
            {
                "day": r.day.isoformat(),
                "group": r.group,
                "amount": str(r.amount),
                "unit": r.unit,
                "estimated": r.estimated,
            }
            for r in rows
        ],
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(document), encoding="utf-8")
    tmp.replace(path)
