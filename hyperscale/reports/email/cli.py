"""`hyperscale report email`: a thin command over hyperscale.reports.email.core."""

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


def email(
    ctx: typer.Context,
    to: Annotated[
        list[str] | None,
        typer.Option(
            "--to",
            help="Send to this address (repeatable). Default: reports.email.recipients.",
            metavar="ADDR",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also write the HTML here, to preview it.", show_default=False),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Collect and render, but send nothing and store nothing."),
    ] = False,
    via: Annotated[
        str | None,
        typer.Option(
            "--via", help="smtp or ses. Default: reports.email.via (smtp).", show_default=False
        ),
    ] = None,
    section: Annotated[
        list[str] | None,
        typer.Option(
            "--section",
            help="Only this section (repeatable): health, alb, database, kafka_lag,"
            " dead_letters, cost, images.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds a collector may take before it is reported late.")
    ] = 120.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The SRE digest as one e-mail: a red/amber/green summary, then health, ALB p95/p99 and
    5xx, database connections and replica lag, Kafka lag per group, dead letters of the last
    day, cost with forecast and top movers, image cleanup actions, and what changed since the
    last report, with charts. Every collector runs at once; one that fails becomes a "could not
    collect" section and the mail still goes. Exit 0 when all collected, 1 when one could not,
    2 on bad input, 3 when the mail could not be sent."""
    from hyperscale.reports.email.core import EmailOptions, email_report

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        options = EmailOptions(
            recipients=to or [],
            out=out,
            dry_run=dry_run,
            via=via or environment.reports.email.via,
            only=section or [],
            collector_timeout_s=timeout,
        )
        with progress_spinner(app_ctx, "report email") as progress:
            return email_report(environment, app_ctx, options, progress)

    run_env_command(ctx, "report email", output, env, body)
