"""`hyperscale report schedule`: a thin command over hyperscale.reports.schedule.core."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result


def schedule(
    ctx: typer.Context,
    cron: Annotated[
        str | None,
        typer.Option(
            help="Five-field cron expression, e.g. '0 7 * * 1-5'. Default: reports.email.schedule.",
            show_default=False,
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="IANA time zone the expression is read in. Default: reports.email.timezone.",
            show_default=False,
        ),
    ] = None,
    print_only: Annotated[
        bool,
        typer.Option("--print", help="Show the crontab entry (or the CronJob) and change nothing."),
    ] = False,
    crontab_file: Annotated[
        Path | None,
        typer.Option(
            "--crontab-file",
            help="Local target: write the entry into this file (a cron.d drop-in) instead of the"
            " user's crontab.",
            show_default=False,
        ),
    ] = None,
    image: Annotated[
        str | None,
        typer.Option(help="Kubernetes: the CLI image to run.", show_default=False),
    ] = None,
    run_now: Annotated[
        bool,
        typer.Option(
            "--run-now", help="Kubernetes: also start a Job from the CronJob now and track it."
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, change nothing.")] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Go ahead on a protected environment.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Run `hyperscale report email` on a schedule: validates the cron expression and shows the
    next five runs in the time zone; on the local target installs a crontab entry (or prints
    it); on a Kubernetes target applies the report-email CronJob (concurrencyPolicy Forbid,
    startingDeadlineSeconds, timeZone, history limits, its IRSA service account, the CLI
    image). Exit 0, 2 on a bad expression or time zone, 3 when cron or the cluster fails."""
    from hyperscale.reports.schedule.core import ScheduleOptions
    from hyperscale.reports.schedule.core import schedule as schedule_report

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        options = ScheduleOptions(
            cron=cron,
            timezone=timezone,
            print_only=print_only,
            crontab_file=crontab_file,
            image=image,
            dry_run=dry_run,
            yes=yes,
            run_now=run_now,
        )
        return schedule_report(environment, app_ctx, options)

    run_env_command(ctx, "report schedule", output, env, body)
