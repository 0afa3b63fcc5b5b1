"""`hyperscale kafka health`: a thin command over hyperscale.kafka.health.core."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from hyperscale.boundary import run_env_command
from hyperscale.kafka.options import BootstrapOption, TimeoutOption
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result


def health(
    ctx: typer.Context,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The cluster's replication and availability: under-replicated, under-min-ISR and offline
    partitions, the active controller, and whether each broker answers on its own. Exit 0
    healthy, 1 degraded, 2 bad input, 3 when no broker can be reached."""
    from hyperscale.clients.kafka.config import with_bootstrap
    from hyperscale.kafka.health.core import kafka_health

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        return kafka_health(with_bootstrap(environment, bootstrap), app_ctx, timeout)

    run_env_command(ctx, "kafka health", output, env, body)
