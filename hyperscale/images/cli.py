"""`hyperscale images base|build|push|cleanup`: thin commands over hyperscale.images.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_command, run_env_command
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat, progress_spinner

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result

app = command_group(
    "Container images: a base from Debian packages, builds tagged by the git commit, pushes"
    " pinned by digest, and registry cleanup. Exit codes: 0 ok, 2 bad input (unknown service,"
    " a dirty tree for a protected environment), 3 a tool or registry failed."
)

ServiceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--service",
        "-s",
        metavar="NAME",
        help="api, consumer or cli (repeatable). Default: api and consumer.",
        show_default=False,
    ),
]


@app.command("base")
def base_cmd(
    ctx: typer.Context,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="Run debootstrap again even when cached.")
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Build localhost/hyperscale/python:3.11-bookworm from Debian packages (cached by hash)."""
    from hyperscale.images import core

    def body(app_ctx: AppContext) -> Result:
        with progress_spinner(app_ctx, "base image") as progress:
            return core.base(app_ctx, rebuild=rebuild, progress=progress)

    run_command(ctx, "images base", output, body)


@app.command()
def build(
    ctx: typer.Context,
    service: ServiceOption = None,
    push: Annotated[
        bool, typer.Option("--push", help="Push to the environment's registry.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Build the services' images, tagged by the commit (`<sha>-dirty` for a changed tree)."""
    from hyperscale.images import core

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        with progress_spinner(app_ctx, "images build") as progress:
            return core.build(environment, app_ctx, service, push_after=push, progress=progress)

    run_env_command(ctx, "images build", output, env, body)


@app.command("push")
def push_cmd(
    ctx: typer.Context,
    service: ServiceOption = None,
    tag: Annotated[
        str | None,
        typer.Option(
            "--tag", help="The build to push. Default: the latest build.", show_default=False
        ),
    ] = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Push a build's images to the environment's registry (a no-op for ones already there)."""
    from hyperscale.images import core

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        with progress_spinner(app_ctx, "images push") as progress:
            return core.push(environment, app_ctx, service, tag=tag, progress=progress)

    run_env_command(ctx, "images push", output, env, body)


@app.command()
def cleanup(
    ctx: typer.Context,
    keep: Annotated[
        int, typer.Option("--keep", min=1, help="Always keep the newest N per repository.")
    ] = 10,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Grace period: keep anything pushed more recently (30d, 12h, 2w).",
        ),
    ] = "30d",
    repository: Annotated[
        list[str] | None,
        typer.Option(
            "--repository",
            metavar="REPO",
            help="Only this repository (repeatable). Default: every hyperscale/* repository.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete. Without it: a dry run that deletes nothing.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Delete old images from the environment's registry (dry run unless --yes).

    Never deleted: the newest N per repository, release (semver) tags, anything referenced by
    a Deployment, ReplicaSet, StatefulSet, DaemonSet, CronJob, Job or Pod of the environment's
    cluster, and anything pushed within the grace period. Deletions are written to a JSON audit
    under the state directory.
    """
    from hyperscale.images.cleanup import CleanupOptions
    from hyperscale.images.cleanup import cleanup as run_cleanup

    options = CleanupOptions(keep, older_than, yes, repository or [])

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        with progress_spinner(app_ctx, "images cleanup") as progress:
            return run_cleanup(environment, app_ctx, options, progress)

    run_env_command(ctx, "images cleanup", output, env, body)
