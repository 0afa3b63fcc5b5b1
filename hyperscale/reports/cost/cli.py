"""`hyperscale report cost`: a thin command over hyperscale.reports.cost.core."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption
from hyperscale.output import OutputFormat, Result, TextResult

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext


class CostOutput(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    csv = "csv"


def cost(
    ctx: typer.Context,
    group_by: Annotated[
        str, typer.Option("--group-by", help="service, or tag:KEY (a cost allocation tag).")
    ] = "service",
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="The report's today (YYYY-MM-DD, UTC); windows end the day before.",
            show_default=False,
        ),
    ] = None,
    include_credits: Annotated[
        bool, typer.Option("--include-credits", help="Count credits and refunds as well.")
    ] = False,
    max_age: Annotated[
        float,
        typer.Option("--max-age", min=0, help="Reuse cached figures younger than this (hours)."),
    ] = 6.0,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Ask Cost Explorer again, whatever the cache holds.")
    ] = False,
    top: Annotated[int, typer.Option(min=1, help="Top movers shown.")] = 5,
    snapshot_days: Annotated[
        int, typer.Option("--snapshot-days", min=1, help="Snapshots older than this are findings.")
    ] = 90,
    no_findings: Annotated[
        bool, typer.Option("--no-findings", help="Skip the savings findings (EC2, ELB reads).")
    ] = False,
    env: EnvOption = None,
    output: Annotated[
        CostOutput,
        typer.Option("--output", "-o", help="table; json or yaml (the envelope); csv."),
    ] = CostOutput.table,
) -> None:
    """Cost Explorer: month to date against the same days of last month, yesterday, the last 7
    days, the top movers, the month's forecast (linear when Cost Explorer has none), and
    savings findings (unattached volumes, old snapshots, idle load balancers, stopped
    instances, unassociated Elastic IPs) with their estimated monthly saving. Credits and
    refunds are excluded by default. Answers are cached (Cost Explorer charges per request).
    Exit 0, 2 on bad input, 3 when AWS fails."""
    from hyperscale.reports.cost.core import CostQuery, cost_report

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        query = CostQuery(
            as_of=_date(as_of),
            group_by=group_by,
            exclude_credits=not include_credits,
            max_age_s=max_age * 3600,
            refresh=refresh,
            top=top,
            findings=not no_findings,
            snapshot_days=snapshot_days,
        )
        report = cost_report(environment, app_ctx, query)
        return TextResult(report, report.to_csv()) if output is CostOutput.csv else report

    shared = OutputFormat.table if output is CostOutput.csv else OutputFormat(output.value)
    run_env_command(ctx, "report cost", shared, env, body)


def _date(text: str | None) -> dt.date | None:
    from hyperscale.errors import UsageError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of {text!r}: write a date, YYYY-MM-DD") from None
