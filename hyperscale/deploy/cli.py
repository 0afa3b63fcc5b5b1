"""`hyperscale deploy`, `deploy history`, `rollback` and `status`: thin commands over
hyperscale.deploy.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat, progress_events

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result


class _RunByDefault(TyperGroup):
    """`deploy [OPTIONS]` deploys; `deploy history` is the one other command."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("-h", "--help")):
            args = ["run", *args]
        return super().parse_args(ctx, args)


app = command_group(
    "Deploy the platform: `hyperscale deploy --env ENV [OPTIONS]` (the run command, see"
    " `hyperscale deploy run --help`); `hyperscale deploy history --env ENV` lists the deploys"
    " and rollbacks of a Kubernetes environment. Exit codes: 0 deployed and ready, 1 the"
    " rollout failed (named, and rolled back unless --no-rollback), 2 usage, refused or locked"
    " by another deploy, 3 an outside system failed, 130 interrupted (the lock is released).",
    cls=_RunByDefault,
)

YesOption = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Go ahead on a protected environment (prod, staging)."),
]
TimeoutOption = Annotated[
    str, typer.Option("--timeout", help="How long the workloads may take to be ready: 90s, 10m.")
]


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        if text[-1:] in units:
            return float(text[:-1]) * units[text[-1]]
        return float(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration such as 90s or 10m") from None


@app.command("run")
def deploy(
    ctx: typer.Context,
    yes: YesOption = False,
    env: EnvOption = None,
    image_tag: Annotated[
        str | None,
        typer.Option("--image-tag", help="Deploy this pushed tag (its digest, from the registry)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Server-side dry run: show what would change (drift too)."),
    ] = False,
    timeout: TimeoutOption = "10m",
    no_rollback: Annotated[
        bool, typer.Option("--no-rollback", help="Leave a failed rollout as it is.")
    ] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Why: kept in the lock and the journal.")
    ] = "",
    force_unlock: Annotated[
        bool,
        typer.Option(
            "--force-unlock",
            help="Break the environment's deploy lock (needs --reason), no deploy.",
        ),
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Schema, topics, then the workloads (Kubernetes: pinned images, server-side apply in
    waves, pruning, kstatus waits, rollback on failure, under a per-environment lock)."""
    from hyperscale.deploy import core

    seconds = _seconds(timeout)

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        if force_unlock:
            return core.force_unlock(environment, app_ctx, reason, yes=yes)
        with progress_events(app_ctx, f"deploying {environment.name}") as progress:
            if dry_run:
                return core.plan(environment, app_ctx, progress, image_tag=image_tag)
            options = core.DeployOptions(
                image_tag=image_tag, timeout_s=seconds, rollback=not no_rollback, reason=reason
            )
            return core.deploy(environment, app_ctx, progress, yes=yes, options=options)

    run_env_command(ctx, "deploy", output, env, body)


@app.command("history")
def history(
    ctx: typer.Context, env: EnvOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """Every deploy and rollback of the environment: revision, result, who, commit, duration."""
    from hyperscale.deploy import core

    run_env_command(ctx, "deploy history", output, env, core.history)


def rollback(
    ctx: typer.Context,
    to: Annotated[
        str | None,
        typer.Option("--to", help="The revision to go back to (default: the previous one)."),
    ] = None,
    yes: YesOption = False,
    env: EnvOption = None,
    timeout: TimeoutOption = "10m",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Go back to a revision of `deploy history`, with the same waits and reporting."""
    from hyperscale.deploy import core

    seconds = _seconds(timeout)

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        with progress_events(app_ctx, f"rolling back {environment.name}") as progress:
            return core.rollback(environment, app_ctx, progress, to=to, yes=yes, timeout_s=seconds)

    run_env_command(ctx, "rollback", output, env, body)


def status(
    ctx: typer.Context, env: EnvOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """Each workload: readiness (Kubernetes: replicas, images, HPA, PDB, warnings); exit 1 if
    one is not ready."""
    from hyperscale.deploy import core

    run_env_command(ctx, "status", output, env, core.status)
