"""`hyperscale metrics alb`: a thin command over hyperscale.metrics.alb.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.metrics.options import duration_seconds
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result


def alb(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option(help="The window, up to now: 15m, 1h, 2d.", metavar="DURATION")
    ] = "1h",
    period: Annotated[
        int, typer.Option(help="Seconds per datapoint: 60 or a multiple (or 1, 5, 10, 30).")
    ] = 60,
    p95_ms: Annotated[
        float | None,
        typer.Option(
            "--p95-ms",
            min=0,
            help="Exit 1 when a period's p95 response time is slower. Default: slo.api_p95_ms.",
            show_default=False,
        ),
    ] = None,
    max_5xx_rate: Annotated[
        str | None,
        typer.Option(
            "--max-5xx-rate",
            help="Exit 1 when 5xx answers exceed this share of the window's requests: 0.01 or"
            " 1%. Default: slo.api_error_rate_pct.",
            metavar="RATE",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="The load balancer's name, instead of finding it by tag.", show_default=False
        ),
    ] = None,
    tag: Annotated[
        str | None,
        typer.Option(
            help="Find it by this tag (KEY=VALUE). Default:"
            " ingress.k8s.aws/stack=hyperscale-ENV, the ingress group's.",
            metavar="KEY=VALUE",
            show_default=False,
        ),
    ] = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The environment's load balancer over a window: requests, response time p50/p95/p99,
    target and ELB 5xx (and their rate), healthy and unhealthy hosts, rejected connections,
    target connection errors. Missing datapoints read as no traffic. Exit 0 within the
    thresholds, 1 when one is breached, 2 on bad input (no such load balancer, no AWS
    credentials), 3 when AWS fails."""
    from hyperscale.metrics.alb.core import AlbQuery, alb_metrics

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        query = AlbQuery(
            since_s=duration_seconds(since, "--since"),
            period_s=period,
            max_p95_ms=p95_ms if p95_ms is not None else environment.slo.api_p95_ms,
            max_5xx_rate=_rate(max_5xx_rate)
            if max_5xx_rate is not None
            else environment.slo.api_error_rate_pct / 100,
            name=name,
            tag=tag,
        )
        with progress_spinner(app_ctx, "reading CloudWatch") as progress:
            return alb_metrics(environment, app_ctx, query, progress=progress)

    run_env_command(ctx, "metrics alb", output, env, body)


def _rate(text: str) -> float:
    from hyperscale.errors import UsageError

    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise UsageError(
            f"--max-5xx-rate {text!r}: write a share (0.01) or a percentage (1%)"
        ) from None
