"""`hyperscale kafka dlq inspect|replay`: thin commands over hyperscale.kafka.dlq."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hyperscale.boundary import run_env_command
from hyperscale.kafka.options import BootstrapOption, TimeoutOption
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext

app = command_group("Dead-letter topics: what failed, where it came from, and why.")


@app.command("inspect")
def dlq_inspect(
    ctx: typer.Context,
    topics: Annotated[
        list[str] | None,
        typer.Argument(
            help="DLQ topics to read. Default: every topic ending with the environment's"
            " dead-letter suffix.",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", "-n", min=0, help="Records to show with their headers.")
    ] = 5,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only records that failed at or after: ISO 8601 (UTC unless given) or an age"
            " (30m, 6h, 2d).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until", help="Only records that failed before (as --since).", show_default=False
        ),
    ] = None,
    exception: Annotated[
        str | None,
        typer.Option(
            "--exception",
            help="Only records whose exception class matches this regex.",
            show_default=False,
        ),
    ] = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Counts by exception class, origin topic and hour, and sample records with decoded
    headers (this project's, Spring's and Kafka Connect's). Reads only: no group, no commits."""
    from hyperscale.kafka.dlq import DlqQuery, inspect_dlq

    query = DlqQuery(
        topics=topics or [],
        samples=samples,
        bootstrap=bootstrap,
        timeout=timeout,
        since=since,
        until=until,
        exception=exception,
    )

    def body(environment: Environment, app_ctx: AppContext) -> Any:
        return inspect_dlq(environment, app_ctx, query)

    run_env_command(ctx, "kafka dlq inspect", output, env, body)
