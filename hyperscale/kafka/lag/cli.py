"""`hyperscale kafka lag`: a thin command over hyperscale.kafka.lag.core and its modes
(sampling, watch, exporter)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hyperscale.boundary import run_env_command
from hyperscale.kafka.lag.view import LagOutput, lag_result
from hyperscale.kafka.options import BootstrapOption, TimeoutOption
from hyperscale.options import EnvOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.kafka.lag.results import LagReport


def lag(
    ctx: typer.Context,
    group: Annotated[
        str | None,
        typer.Option(
            "--group",
            "-g",
            help="Consumer groups whose whole id matches this regex. Default: every group.",
            show_default=False,
        ),
    ] = None,
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", "-t", help="Only these topics (repeatable).", show_default=False),
    ] = None,
    state: Annotated[
        list[str] | None,
        typer.Option(
            "--state",
            help="Only groups in this state: Stable, Empty... (repeatable).",
            show_default=False,
        ),
    ] = None,
    max_lag: Annotated[
        int | None,
        typer.Option(
            "--max-lag",
            min=0,
            help="Exit 1 when a partition lags more messages. Default: SLO.",
            show_default=False,
        ),
    ] = None,
    max_seconds: Annotated[
        float | None,
        typer.Option(
            "--max-seconds",
            min=0,
            help="Exit 1 when a partition lags more seconds. Default: SLO.",
            show_default=False,
        ),
    ] = None,
    offset_reset: Annotated[
        str,
        typer.Option(
            "--offset-reset",
            help="The group's auto.offset.reset (earliest|latest): for a partition it has no"
            " committed offset on, where it would start, so the lag shown as lag_if_reset.",
            metavar="earliest|latest",
        ),
    ] = "latest",
    count_uncommitted: Annotated[
        bool,
        typer.Option(
            "--count-uncommitted",
            help="Count that lag in the partition's and the group's figures and thresholds.",
        ),
    ] = False,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    sample: Annotated[
        int | None,
        typer.Option(
            "--sample",
            min=2,
            help="Take N snapshots --interval apart: rates, trend, ETA and a status per"
            " partition and group (OK, WARN, STALL, STOP, REWIND, ERR); exit 1 unless all OK.",
            show_default=False,
        ),
    ] = None,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            min=0,
            help="Seconds between snapshots (--sample), refreshes (--watch), or broker reads"
            " (--serve: read in the background, scrapes get the latest; 0: each scrape reads).",
        ),
    ] = 5.0,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            help="With --sample: only partitions with this status (repeatable).",
            show_default=False,
        ),
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(
            "--watch",
            "-w",
            help="Refresh every --interval seconds until Ctrl-C (exit 0): in place on a"
            " terminal, else one report after the other (-o json: one envelope per line).",
        ),
    ] = False,
    count: Annotated[
        int | None,
        typer.Option(
            "--count",
            min=1,
            help="With --watch: stop after N refreshes, exiting as the last report does.",
            show_default=False,
        ),
    ] = None,
    serve: Annotated[
        str | None,
        typer.Option(
            "--serve",
            help="Run as a Prometheus exporter on HOST:PORT (PORT alone: 127.0.0.1) until"
            " SIGTERM or Ctrl-C; lag is read every --interval seconds, scrapes get the latest.",
            show_default=False,
            metavar="ADDR",
        ),
    ] = None,
    env: EnvOption = None,
    output: Annotated[
        LagOutput,
        typer.Option(
            "--output",
            "-o",
            help="table; json or yaml (the envelope); ndjson (a line per partition);"
            " prometheus (text exposition format).",
        ),
    ] = LagOutput.table,
) -> None:
    """Lag per group, topic and partition: offsets, messages behind, and seconds behind."""
    from hyperscale.kafka.lag.core import LagQuery, consumer_lag
    from hyperscale.kafka.lag.sampling import sample_lag

    query = LagQuery(
        group_pattern=group if group is not None else ".*",
        group_given=group is not None,
        topics=topic or [],
        states=state or [],
        max_lag_messages=max_lag,
        max_lag_seconds=max_seconds,
        bootstrap=bootstrap,
        timeout=timeout,
        statuses=status or [],
        offset_reset=offset_reset,
        count_uncommitted=count_uncommitted,
    )
    streaming = watch or serve is not None

    def body(environment: Environment, app_ctx: AppContext) -> Any:
        _check_modes(sample, watch, serve, count, status)

        def measure() -> LagReport:
            return consumer_lag(environment, app_ctx, query)

        if serve is not None:
            from hyperscale.kafka.lag.exporter import serve as serve_metrics

            return serve_metrics(app_ctx, serve, measure, interval)
        if watch:
            from hyperscale.kafka.lag.table import report_renderables
            from hyperscale.kafka.lag.view import lag_text
            from hyperscale.watching import display
            from hyperscale.watching import watch as watch_reports

            def as_text(report: LagReport) -> str:
                return lag_text(app_ctx, report, output)

            live = output is LagOutput.table
            with display(app_ctx, live, interval, report_renderables, as_text) as show:
                return watch_reports(measure, show, interval, count, "refreshes")
        report = (
            measure()
            if sample is None
            else sample_lag(environment, app_ctx, query, sample, interval)
        )
        return lag_result(report, output)

    shared = OutputFormat.table if output.textual or streaming else OutputFormat(output.value)
    run_env_command(ctx, "kafka lag", shared, env, body)


def _check_modes(
    sample: int | None, watch: bool, serve: str | None, count: int | None, status: list[str] | None
) -> None:
    from hyperscale.errors import UsageError

    if sum((sample is not None, watch, serve is not None)) > 1:
        raise UsageError("--sample, --watch and --serve do not go together: pick one")
    if sample is None and status:
        raise UsageError("--status needs --sample N: a status is judged over samples")
    if count is not None and not watch:
        raise UsageError("--count needs --watch: it bounds the number of refreshes")
