"""`hyperscale render`: a thin command over hyperscale.render.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.render.results import RenderResult


def render(
    ctx: typer.Context,
    env: EnvOption = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 if the committed manifests (and Terraform roots) differ"
            " from a fresh render, listing the stale files.",
        ),
    ] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Render the Kubernetes manifests (and Terraform roots) of an environment and validate them:
    strict Kubernetes and CRD schemas, checkov, promtool, amtool, terraform fmt, no secrets.
    Exit 0 clean, 1 findings or stale files, 2 bad input, 3 a tool could not run."""

    def body(environment: Environment, app: AppContext) -> RenderResult:
        from hyperscale.output import progress_spinner
        from hyperscale.render.core import render_environment

        with progress_spinner(app, f"render {environment.name}") as progress:
            return render_environment(environment, app, check=check, progress=progress)

    run_env_command(ctx, "render", output, env, body)
