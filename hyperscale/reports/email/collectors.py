"""The digest's collectors: each a callable that takes the run's context and returns a typed
section, listed in one registry (``COLLECTORS``). Each reuses its domain's core: health,
metrics alb|db, kafka lag, kafka dlq, report cost, images cleanup (as a dry run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.reports.email.sections import Chart, Collected, Rag, Table


@dataclass(frozen=True)
class ReportContext:
    env: Environment
    app: AppContext
    #: The report's time (Unix), and the date the cost windows end before.
    now: float
    cost_as_of: dt.date | None = None
    #: Seconds a database sample spans (two samples that far apart).
    db_interval_s: float = 1.0
    kafka_timeout_s: float = 10.0


Collector = Callable[[ReportContext], Collected]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def collect_health(ctx: ReportContext) -> Collected:
    from hyperscale.health.core import HealthOptions, check_health
    from hyperscale.health.thresholds import State

    report = check_health(ctx.env, ctx.app, HealthOptions())
    down, degraded = report.count(State.DOWN), report.count(State.DEGRADED)
    status = Rag.red if down else Rag.amber if degraded else Rag.green
    rows = [
        [
            e.name,
            e.state.value.upper(),
            "-" if e.status_code is None else str(e.status_code),
            _ms(e.latency_ms),
            e.reason or "",
        ]
        for e in report.endpoints
    ]
    figures = {f"latency_ms:{e.name}": e.latency_ms for e in report.endpoints if e.latency_ms}
    return Collected(
        status,
        f"{len(report.endpoints)} endpoints: {down} down, {degraded} degraded",
        [Table(["endpoint", "state", "status", "latency", "detail"], rows)],
        {"endpoints_down": float(down), **figures},
    )


def collect_alb(ctx: ReportContext) -> Collected:
    from hyperscale.clients.aws import aws_client, load_balancers
    from hyperscale.metrics.alb.core import STACK_TAG, AlbQuery, alb_metrics

    stack = f"hyperscale-{ctx.env.name}"

    def make(service: str) -> object:
        return aws_client(ctx.env.aws, service, timeout=15, attempts=3)

    if not any(b.tags.get(STACK_TAG) == stack for b in load_balancers(ctx.env.aws, make("elbv2"))):
        return Collected(Rag.none, f"no load balancer tagged {STACK_TAG}={stack} in this account")
    slo = ctx.env.slo
    query = AlbQuery(
        since_s=86400,
        period_s=3600,
        max_p95_ms=slo.api_p95_ms,
        max_5xx_rate=slo.api_error_rate_pct / 100,
    )
    report = alb_metrics(ctx.env, ctx.app, query, make_client=make)
    breached = [c for c in report.checks if c.breached]
    rate = "-" if report.rate_5xx is None else f"{report.rate_5xx * 100:.2f}%"
    rows = [
        ["requests (24h)", f"{report.requests:,}"],
        ["p95 (worst hour)", _ms(report.p95_ms)],
        ["p99 (worst hour)", _ms(report.p99_ms)],
        ["5xx rate", rate],
    ]
    figures = {
        k: v
        for k, v in {
            "p95_ms": report.p95_ms,
            "p99_ms": report.p99_ms,
            "rate_5xx_pct": None if report.rate_5xx is None else report.rate_5xx * 100,
        }.items()
        if v is not None
    }
    return Collected(
        Rag.red if breached else Rag.green,
        f"{report.load_balancer}: p95 {_ms(report.p95_ms)}, p99 {_ms(report.p99_ms)}, 5xx {rate}",
        [Table(["figure", "value"], rows)],
        figures,
        notes=[f"{c.name} {c.subject}: {c.value} over {c.limit}" for c in breached],
    )


def collect_database(ctx: ReportContext) -> Collected:
    from hyperscale.metrics.db.core import DbLimits, db_metrics

    report = db_metrics(ctx.env, ctx.app, ctx.db_interval_s, DbLimits(), rds=None)
    breached = [c for c in report.checks if c.breached]
    rows: list[list[str]] = []
    figures: dict[str, float] = {}
    for s in report.servers:
        lag = s.replication.seconds_behind if s.replication else None
        rows.append(
            [
                s.role,
                s.endpoint,
                f"{s.connections_pct:.0f}% ({s.connections}/{s.max_connections})",
                str(s.threads_running),
                "-" if lag is None else f"{lag} s",
            ]
        )
        figures[f"connections_pct:{s.role}"] = round(s.connections_pct, 1)
        if lag is not None:
            figures[f"replica_lag_s:{s.role}"] = float(lag)
    return Collected(
        Rag.red if breached else Rag.green,
        "; ".join(f"{r[0]} {r[2]} connections" for r in rows)
        + ("; " + ", ".join(f"{c.name} breached" for c in breached) if breached else ""),
        [Table(["server", "endpoint", "connections", "running", "replica lag"], rows)],
        figures,
        notes=[f"{c.name} {c.subject}: {c.value} over {c.limit}" for c in breached],
    )


def collect_kafka_lag(ctx: ReportContext) -> Collected:
    from hyperscale.kafka.lag.core import LagQuery, consumer_lag

    report = consumer_lag(ctx.env, ctx.app, LagQuery(timeout=ctx.kafka_timeout_s))
    rows = [
        [
            g.group,
            g.state,
            str(g.members),
            f"{g.lag_messages:,}",
            "-" if g.lag_seconds is None else f"{g.lag_seconds:.0f} s",
        ]
        for g in report.groups
    ]
    worst_group = max(report.groups, key=lambda g: g.lag_messages, default=None)
    headline = (
        f"{len(report.groups)} groups; most behind: {worst_group.group}"
        f" ({worst_group.lag_messages:,} messages)"
        if worst_group
        else "no consumer groups"
    )
    return Collected(
        Rag.red if report.breaches else Rag.green,
        headline,
        [Table(["group", "state", "members", "lag", "lag time"], rows)],
        {f"lag_messages:{g.group}": float(g.lag_messages) for g in report.groups},
        notes=[b.describe() for b in report.breaches],
    )


def collect_dead_letters(ctx: ReportContext) -> Collected:
    from hyperscale.kafka.dlq.core import DlqQuery, inspect_dlq
    from hyperscale.kafka.dlq.filter import FilterSpec

    query = DlqQuery(samples=0, timeout=ctx.kafka_timeout_s, filters=FilterSpec(since="24h"))
    report = inspect_dlq(ctx.env, ctx.app, query)
    rows = [[name, f"{count:,}"] for name, count in report.by_exception_class.items()]
    topics = ", ".join(t.topic for t in report.topics) or "no dead-letter topic"
    return Collected(
        Rag.amber if report.total else Rag.green,
        f"{report.total:,} dead letters in the last 24 hours ({topics})",
        [Table(["exception", "dead letters"], rows)] if rows else [],
        {"dead_letters_24h": float(report.total)},
    )


def collect_cost(ctx: ReportContext) -> Collected:
    from hyperscale.reports.cost.core import CostQuery, cost_report
    from hyperscale.reports.cost.results import money

    report = cost_report(ctx.env, ctx.app, CostQuery(as_of=ctx.cost_as_of), now=ctx.now)
    u = report.unit
    forecast = report.forecast.month_total
    budget = report.budget
    status = Rag.green
    if budget is not None and report.month_to_date.amount > budget:
        status = Rag.red
    elif budget is not None and forecast is not None and forecast > budget:
        status = Rag.amber
    change = report.month_change_pct
    change_text = "-" if change is None else f"{change:+.1f}%"
    rows = [
        ["month to date", money(report.month_to_date.amount, u)],
        ["same days last month", money(report.same_days_last_month.amount, u)],
        ["change", change_text],
        [f"forecast ({report.forecast.source})", money(forecast, u)],
        ["budget", money(budget, u)],
        ["savings found", f"{money(report.savings, u)} a month ({len(report.findings)} findings)"],
    ]
    movers = [[m.group, money(m.this_month, u), money(m.change, u)] for m in report.movers]
    tables = [Table(["figure", "value"], rows)]
    if movers:
        tables.append(Table(["top mover", "month to date", "change"], movers))
    notes = [report.forecast.note] if report.forecast.note else []
    if report.findings_error:
        notes.append(f"savings findings could not be collected: {report.findings_error}")
    chart = Chart(
        "cost",
        "Cost by day",
        "bar",
        [d.strftime("%m-%d") for d, _ in report.daily],
        {"cost": [float(a) for _, a in report.daily]},
        u,
    )
    figures = {"month_to_date": float(report.month_to_date.amount)}
    if forecast is not None:
        figures["forecast"] = float(forecast.quantize(Decimal("0.01")))
    return Collected(
        status,
        f"month to date {money(report.month_to_date.amount, u)} ({change_text} on last month),"
        f" forecast {money(forecast, u)}",
        tables,
        figures,
        [chart] if report.daily else [],
        notes,
    )


def collect_images(ctx: ReportContext) -> Collected:
    from hyperscale.images.cleanup import CleanupOptions, cleanup

    result = cleanup(ctx.env, ctx.app, CleanupOptions(yes=False))
    doomed = [d for d in result.decisions if d.delete]
    rows = [
        [d.image.repository, ", ".join(d.image.tags) or d.image.digest[:19], "; ".join(d.reasons)]
        for d in doomed
    ]
    return Collected(
        Rag.green,
        f"{len(doomed)} of {len(result.decisions)} images in {result.registry} would be deleted"
        " by `hyperscale images cleanup --yes`",
        [Table(["repository", "image", "why"], rows)] if rows else [],
        {"images_to_delete": float(len(doomed))},
    )


#: Every section of the digest, in the order the mail shows them: (key, title, collector).
COLLECTORS: list[tuple[str, str, Collector]] = [
    ("health", "Health", collect_health),
    ("alb", "Load balancer (ALB)", collect_alb),
    ("database", "Database", collect_database),
    ("kafka_lag", "Kafka consumer lag", collect_kafka_lag),
    ("dead_letters", "Dead letters", collect_dead_letters),
    ("cost", "Cost", collect_cost),
    ("images", "Image cleanup", collect_images),
]
