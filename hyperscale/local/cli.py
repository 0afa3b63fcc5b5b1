"""`hyperscale local up|down|status|install`: thin commands over hyperscale.local.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.context import AppContext
from hyperscale.local.cluster.cli import app as cluster_app
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat, progress_spinner

if TYPE_CHECKING:
    from hyperscale.config.models import Environment

app = command_group(
    "The platform's backing services on this machine: Kafka, MariaDB and its read replica,"
    " Redis, AWS, SMTP, a registry."
)

app.add_typer(cluster_app, name="cluster")

ServicesArg = Annotated[
    list[str] | None,
    typer.Argument(
        help="Services to act on (kafka, mysql, mysql-replica, redis, aws, smtp, registry);"
        " default: all.",
        show_default=False,
    ),
]


@app.command()
def up(
    ctx: typer.Context,
    services: ServicesArg = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Start the backing services (reusing running ones) and wait until each answers."""
    from hyperscale.local import core
    from hyperscale.local.results import LocalUpResult

    def body(environment: Environment, app_ctx: AppContext) -> LocalUpResult:
        with progress_spinner(app_ctx, "starting local services") as progress:
            return core.up(environment, app_ctx, services or [], progress)

    run_env_command(ctx, "local up", output, env, body)


@app.command()
def down(
    ctx: typer.Context,
    services: ServicesArg = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Stop the backing services that `local up` started. Data stays in the state directory."""
    from hyperscale.local import core

    run_env_command(ctx, "local down", output, env, lambda e, a: core.down(e, a, services or []))


@app.command()
def status(
    ctx: typer.Context,
    services: ServicesArg = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show each service, its address and whether it answers a real request (exit 1 if not)."""
    from hyperscale.local import core

    run_env_command(
        ctx, "local status", output, env, lambda e, a: core.status(e, a, services or [])
    )


@app.command()
def install(
    ctx: typer.Context,
    services: ServicesArg = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Fetch what the services need into the cache (the Kafka jars) and check the programs exist."""
    from hyperscale.local import core

    run_env_command(
        ctx, "local install", output, env, lambda e, a: core.install(e, a, services or [])
    )
