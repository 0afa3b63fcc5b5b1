"""`hyperscale deploy` and `hyperscale status`: thin commands over hyperscale.deploy.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat, progress_spinner

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.deploy.results import DeployResult


def deploy(
    ctx: typer.Context,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Deploy to a protected environment (prod).")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Apply the schema, create missing topics, start or update the programs, wait until ready."""
    from hyperscale.deploy import core

    def body(environment: Environment, app_ctx: AppContext) -> DeployResult:
        with progress_spinner(app_ctx, f"deploying {environment.name}") as progress:
            return core.deploy(environment, app_ctx, progress, yes=yes)

    run_env_command(ctx, "deploy", output, env, body)


def status(
    ctx: typer.Context, env: EnvOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """Each program of the platform: state, pid, uptime, readiness (exit 1 if one is not ready)."""
    from hyperscale.deploy import core

    run_env_command(ctx, "status", output, env, core.status)
