"""`hyperscale metrics alb`: find the environment's load balancer through ELBv2 by tag, read its
figures in one GetMetricData call (percentiles and the 5xx rates computed by CloudWatch's metric
math), and hold them to the thresholds. Never prints."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.aws import (
    LoadBalancer,
    MetricSeries,
    TargetGroup,
    aws_client,
    load_balancers,
    metric_data,
    target_groups,
)
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.metrics.alb.results import AlbReport, TargetGroupHealth, worst
from hyperscale.metrics.checks import ThresholdCheck
from hyperscale.progress import Progress, quiet

#: The AWS Load Balancer Controller tags what it creates for an ingress group with the group's
#: name; the platform's ingress is in group ``hyperscale-ENV`` (templates/kubernetes/api).
STACK_TAG = "ingress.k8s.aws/stack"
#: Periods CloudWatch accepts: high resolution ones, or whole minutes.
_SHORT_PERIODS = (1, 5, 10, 30)
MAX_DATAPOINTS = 100_800


@dataclass(frozen=True)
class AlbQuery:
    since_s: float = 3600
    period_s: int = 60
    #: Exit 1 when a period's p95 response time is slower (milliseconds).
    max_p95_ms: float | None = None
    #: Exit 1 when the window's 5xx responses exceed this share of its requests (0..1).
    max_5xx_rate: float | None = None
    #: Pick the load balancer by name, or by another tag (KEY=VALUE), instead of the stack tag.
    name: str | None = None
    tag: str | None = None


def alb_metrics(
    env: Environment,
    app: AppContext,
    query: AlbQuery,
    *,
    progress: Progress = quiet,
    make_client: Callable[[str], Any] | None = None,
    now: dt.datetime | None = None,
) -> AlbReport:
    _check_window(query)
    make = make_client or (lambda service: aws_client(env.aws, service, timeout=15, attempts=3))
    elbv2 = make("elbv2")
    progress("finding the load balancer")
    balancer = find_load_balancer(env, query, load_balancers(env.aws, elbv2))
    groups = target_groups(env.aws, elbv2, balancer.arn)
    end = _period_floor(now or dt.datetime.now(dt.UTC), query.period_s)
    start = end - dt.timedelta(seconds=query.since_s)
    progress(f"reading {balancer.name}'s metrics")
    series = metric_data(
        env.aws, make("cloudwatch"), alb_queries(balancer, groups, query.period_s), start, end
    )
    return summarize(env, balancer, groups, series, query, start, end)


def _check_window(query: AlbQuery) -> None:
    period = query.period_s
    if period not in _SHORT_PERIODS and (period <= 0 or period % 60):
        raise UsageError(f"--period {period}: CloudWatch takes 1, 5, 10, 30 or a multiple of 60")
    if query.since_s < period:
        raise UsageError(f"--since must cover at least one period ({period}s)")
    if query.since_s / period > MAX_DATAPOINTS:
        raise UsageError(
            f"--since {query.since_s:g}s in periods of {period}s is over {MAX_DATAPOINTS}"
            " datapoints: choose a longer period"
        )
    if query.max_5xx_rate is not None and not 0 <= query.max_5xx_rate <= 1:
        raise UsageError("--max-5xx-rate must be a share between 0 and 1 (or a percentage: 1%)")


def _period_floor(moment: dt.datetime, period: int) -> dt.datetime:
    seconds = int(moment.timestamp()) // period * period
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def find_load_balancer(
    env: Environment, query: AlbQuery, found: list[LoadBalancer]
) -> LoadBalancer:
    """The one load balancer the query names (by name or tag; default: the stack tag)."""
    if query.name:
        wanted, matches = f"named {query.name}", [b for b in found if b.name == query.name]
    else:
        key, value = _tag(query.tag) if query.tag else (STACK_TAG, f"hyperscale-{env.name}")
        wanted, matches = f"tagged {key}={value}", [b for b in found if b.tags.get(key) == value]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(sorted(b.name for b in (matches or found))) or "none"
    if not matches:
        raise UsageError(
            f"no load balancer {wanted} in {env.aws.region} (account {env.aws.account_id})",
            hint=f"load balancers there: {names}; pick one with --name or --tag",
        )
    raise UsageError(
        f"{len(matches)} load balancers {wanted}: {names}", hint="pick one with --name"
    )


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise UsageError(f"--tag {text!r}: write KEY=VALUE")
    return key, value


def _stat(query_id: str, metric: str, stat: str, dimensions: dict[str, str], period: int) -> Any:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/ApplicationELB",
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def alb_queries(lb: LoadBalancer, groups: list[TargetGroup], period: int) -> list[dict[str, Any]]:
    """Every query of the one GetMetricData call: counts, percentiles, per target group host
    counts, and the 5xx rates as metric math (periods without requests get no rate)."""
    on_lb = {"LoadBalancer": lb.dimension}
    queries = [
        _stat("requests", "RequestCount", "Sum", on_lb, period),
        _stat("p50", "TargetResponseTime", "p50", on_lb, period),
        _stat("p95", "TargetResponseTime", "p95", on_lb, period),
        _stat("p99", "TargetResponseTime", "p99", on_lb, period),
        _stat("target5xx", "HTTPCode_Target_5XX_Count", "Sum", on_lb, period),
        _stat("elb5xx", "HTTPCode_ELB_5XX_Count", "Sum", on_lb, period),
        _stat("rejected", "RejectedConnectionCount", "Sum", on_lb, period),
        _stat("connerrors", "TargetConnectionErrorCount", "Sum", on_lb, period),
    ]
    for index, group in enumerate(groups):
        on_group = {"TargetGroup": group.dimension, "LoadBalancer": lb.dimension}
        queries.append(_stat(f"healthy{index}", "HealthyHostCount", "Minimum", on_group, period))
        queries.append(
            _stat(f"unhealthy{index}", "UnHealthyHostCount", "Maximum", on_group, period)
        )
    for query_id, label, errors in (
        ("rate5xx", "5xx rate", "FILL(target5xx, 0) + FILL(elb5xx, 0)"),
        ("ratetarget5xx", "target 5xx rate", "FILL(target5xx, 0)"),
        ("rateelb5xx", "ELB 5xx rate", "FILL(elb5xx, 0)"),
    ):
        queries.append(
            {
                "Id": query_id,
                "Expression": f"IF(requests > 0, ({errors}) / requests)",
                "Label": label,
                "ReturnData": True,
            }
        )
    return queries


def summarize(
    env: Environment,
    lb: LoadBalancer,
    groups: list[TargetGroup],
    series: dict[str, MetricSeries],
    query: AlbQuery,
    start: dt.datetime,
    end: dt.datetime,
) -> AlbReport:
    """Figures of the window; a metric with no datapoints is a window with no such traffic."""

    def values(query_id: str) -> list[float]:
        found = series.get(query_id)
        return found.values if found else []

    def total(query_id: str) -> float:
        return sum(values(query_id))

    def latest(query_id: str) -> float | None:
        found = values(query_id)
        return found[-1] if found else None

    requests = total("requests")
    errors_5xx = total("target5xx") + total("elb5xx")
    report = AlbReport(
        environment=env.name,
        load_balancer=lb.name,
        dns_name=lb.dns_name,
        start=start.timestamp(),
        end=end.timestamp(),
        period_s=query.period_s,
        requests=int(requests),
        requests_per_s=requests / max((end - start).total_seconds(), 1),
        p50_ms=_ms(worst(values("p50"))),
        p95_ms=_ms(worst(values("p95"))),
        p99_ms=_ms(worst(values("p99"))),
        p95_latest_ms=_ms(latest("p95")),
        target_5xx=int(total("target5xx")),
        elb_5xx=int(total("elb5xx")),
        rate_5xx=errors_5xx / requests if requests else None,
        worst_period_rate_5xx=worst(values("rate5xx")),
        rejected_connections=int(total("rejected")),
        target_connection_errors=int(total("connerrors")),
        target_groups=[
            TargetGroupHealth(
                g.name, _count(latest(f"healthy{i}")), _count(latest(f"unhealthy{i}"))
            )
            for i, g in enumerate(groups)
        ],
    )
    return report.judged(alb_checks(report, query))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _count(value: float | None) -> int | None:
    return None if value is None else int(value)


def alb_checks(report: AlbReport, query: AlbQuery) -> list[ThresholdCheck]:
    """The thresholds: a period's p95 (the worst one), and the window's 5xx rate (a rate from a
    quiet minute is noise; a percentile cannot be summed over periods, so the worst is used)."""
    checks = []
    if query.max_p95_ms is not None:
        checks.append(
            ThresholdCheck(
                "p95 response time",
                report.load_balancer,
                None if report.p95_ms is None else round(report.p95_ms, 1),
                f"<= {query.max_p95_ms:g} ms in every {query.period_s}s period",
                report.p95_ms is not None and report.p95_ms > query.max_p95_ms,
                "no traffic" if report.p95_ms is None else "worst period",
            )
        )
    if query.max_5xx_rate is not None:
        rate = report.rate_5xx
        checks.append(
            ThresholdCheck(
                "5xx rate",
                report.load_balancer,
                None if rate is None else round(rate, 6),
                f"<= {query.max_5xx_rate:.4g} of requests",
                rate is not None and rate > query.max_5xx_rate,
                "no traffic"
                if rate is None
                else f"{report.target_5xx} target + {report.elb_5xx} ELB of {report.requests}",
            )
        )
    return checks
