"""`hyperscale metrics db`: a thin command over hyperscale.metrics.db.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hyperscale.boundary import run_env_command
from hyperscale.metrics.options import duration_seconds
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result


def _limit(help_text: str, metavar: str = "N") -> Any:
    return typer.Option(help=help_text, min=0, metavar=metavar, show_default=False)


def db(
    ctx: typer.Context,
    interval: Annotated[
        str,
        typer.Option(
            help="Time between the two samples (10s, 500ms, 1m): rates are over it.",
            metavar="DURATION",
        ),
    ] = "10s",
    max_connections_pct: Annotated[
        float, _limit("Exit 1 above this share of max_connections, in percent (default 80).", "PCT")
    ] = 80.0,
    max_lag: Annotated[
        float,
        _limit("Exit 1 when a replica is further behind, in seconds (default 30).", "S"),
    ] = 30.0,
    min_hit_ratio: Annotated[
        float | None, _limit("Exit 1 below this buffer pool hit ratio, in percent.", "PCT")
    ] = None,
    max_threads_running: Annotated[
        int | None, _limit("Exit 1 when more threads are running at once.")
    ] = None,
    max_slow_queries: Annotated[
        int | None, _limit("Exit 1 when more slow queries happen within the interval.")
    ] = None,
    min_free_storage: Annotated[
        float, _limit("RDS: exit 1 below this much free storage, in percent (default 10).", "PCT")
    ] = 10.0,
    rds: Annotated[
        bool | None,
        typer.Option(
            "--rds/--no-rds",
            help="Also read the RDS instances' CloudWatch figures. Default: on for"
            " environments with an AWS account (an infra section).",
            show_default=False,
        ),
    ] = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """MySQL figures of the writer and the reader, from two samples an interval apart:
    connections of max_connections (and the high-water mark), threads running, connection
    errors, queries per second, slow queries, buffer pool hit ratio, row lock waits, and the
    replica's I/O and SQL threads and how far behind it is. Exit 0 within every threshold, 1
    when one is breached (a stopped replication thread too), 2 on bad input, 3 when a server
    or AWS cannot be reached."""
    from hyperscale.metrics.db.core import DbLimits, db_metrics

    limits = DbLimits(
        max_connections_pct=max_connections_pct,
        max_lag_seconds=max_lag,
        min_hit_ratio_pct=min_hit_ratio,
        max_threads_running=max_threads_running,
        max_slow_queries=max_slow_queries,
        min_free_storage_pct=min_free_storage,
    )

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        seconds = duration_seconds(interval, "--interval")
        with progress_spinner(app_ctx, "sampling MySQL") as progress:
            return db_metrics(environment, app_ctx, seconds, limits, rds=rds, progress=progress)

    run_env_command(ctx, "metrics db", output, env, body)
