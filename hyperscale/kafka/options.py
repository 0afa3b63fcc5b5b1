"""Options shared by the Kafka commands, and how the reconcile commands run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.kafka.reconcile import ReconcileRequest
    from hyperscale.output import OutputFormat, Result

BootstrapOption = Annotated[
    str | None,
    typer.Option(
        "--bootstrap",
        help="HOST:PORT[,...] instead of the environment's brokers.",
        show_default=False,
    ),
]
#: librdkafka takes its timeouts in whole milliseconds up to an hour (``request.timeout.ms``
#: and the admin calls' ``request_timeout``); a longer, infinite or NaN wait is a usage error,
#: not a broker that "did not answer".
MAX_TIMEOUT_S = 3600.0

TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        min=0.1,
        max=MAX_TIMEOUT_S,
        help="Seconds to wait for the broker (at most an hour: librdkafka's limit).",
    ),
]

#: `kafka topics apply` and `kafka acls apply`.
PlanOnlyOption = Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")]
ConsentOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Consent: for --prune, and for a protected environment."),
]


def run_reconcile(
    ctx: typer.Context,
    command: str,
    request: ReconcileRequest,
    env: str | None,
    output: OutputFormat,
    reconcile: Callable[[Environment, AppContext, ReconcileRequest], Result],
) -> None:
    """`kafka topics|acls apply|diff`: ``reconcile`` the environment with ``request``."""
    run_env_command(
        ctx, command, output, env, lambda environment, app: reconcile(environment, app, request)
    )
