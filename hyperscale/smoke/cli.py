"""`hyperscale smoke`: a thin command over hyperscale.smoke.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.smoke.core import SmokeResult


def smoke(
    ctx: typer.Context,
    orders: Annotated[int, typer.Option(help="Orders to send.", min=1, max=10_000)] = 20,
    events: Annotated[
        int, typer.Option(help="Marketing events to send (one batch).", min=3, max=1000)
    ] = 60,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for MySQL.", min=1)] = 30.0,
    yes: Annotated[
        bool, typer.Option("--yes", help="Allow test orders on a protected environment.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Send real orders and events through the API and check they reach MySQL (exit 1 if not)."""
    from hyperscale.smoke import core

    def body(environment: Environment, app_ctx: AppContext) -> SmokeResult:
        return core.smoke(
            environment, app_ctx, orders=orders, events=events, timeout=timeout, yes=yes
        )

    run_env_command(ctx, "smoke", output, env, body)
