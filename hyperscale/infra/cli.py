"""`hyperscale infra plan|apply|output`: thin commands over hyperscale.infra.core."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.infra.results import StackRun
    from hyperscale.output import Result
    from hyperscale.progress import Progress

app = command_group(
    "Terraform across the environment's modules, in dependency order, outputs feeding inputs."
    " Exit codes: 0 no changes (or applied), 1 changes pending or drift (plan), 2 usage or"
    " configuration error (a cycle in the stack, a protected env without --yes),"
    " 3 terraform failed (the module is named)."
)

ModuleOption = Annotated[
    list[str] | None,
    typer.Option(
        "--module",
        "-m",
        metavar="MODULE",
        help="Only this module (repeatable); its dependencies' outputs are read from state.",
        show_default=False,
    ),
]
StackDirOption = Annotated[
    Path | None,
    typer.Option(
        "--stack-dir",
        metavar="DIR",
        help="The directory holding stack.yaml and the roots. Default: terraform/live/ENV.",
        show_default=False,
    ),
]


@app.command()
def plan(
    ctx: typer.Context,
    module: ModuleOption = None,
    stack_dir: StackDirOption = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Plan every module: adds, changes, destroys and drift per module.

    Exit 0 when nothing would change, 1 when changes are pending (or drift was found, or a
    module waits for an upstream that is not applied yet), 3 when terraform failed.
    """
    from hyperscale.infra import core

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        with _spinner(app_ctx, "terraform plan") as progress:
            result = core.plan(
                environment, app_ctx, modules=module, stack_dir=stack_dir, progress=progress
            )
        return _reported(app_ctx, result)

    run_env_command(ctx, "infra plan", output, env, body)


@app.command()
def apply(
    ctx: typer.Context,
    module: ModuleOption = None,
    stack_dir: StackDirOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Apply to a protected environment (prod).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only plan: show what apply would do.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Plan and apply each module in order; stop at the first module that fails.

    Exit 0 when everything applied (or nothing needed to), 3 when terraform failed (the
    module is named), 2 on a protected environment without --yes or when a module's upstream
    is not applied yet. With --dry-run: plan's codes.
    """
    from hyperscale.infra import core

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        with _spinner(app_ctx, f"terraform {'plan' if dry_run else 'apply'}") as progress:
            if dry_run:
                result = core.plan(
                    environment, app_ctx, modules=module, stack_dir=stack_dir, progress=progress
                )
            else:
                result = core.apply(
                    environment,
                    app_ctx,
                    modules=module,
                    stack_dir=stack_dir,
                    progress=progress,
                    yes=yes,
                )
        return _reported(app_ctx, result)

    run_env_command(ctx, "infra apply", output, env, body)


@app.command()
def destroy(
    ctx: typer.Context,
    module: ModuleOption = None,
    stack_dir: StackDirOption = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Destroy (always needed; a protected env also asks its name)."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only plan the destruction: show what would go.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Destroy each module in reverse dependency order; stop at the first that fails.

    Exit 0 when everything was destroyed (or nothing was left), 2 without --yes or without
    the protected environment's name typed, 3 when terraform failed (the module is named).
    With --dry-run: 1 when something would be destroyed, 0 when nothing would.
    """
    from hyperscale.infra import destroy as teardown

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        title = "terraform plan -destroy" if dry_run else "terraform destroy"
        with _spinner(app_ctx, title) as progress:
            result = teardown.destroy(
                environment,
                app_ctx,
                modules=module,
                stack_dir=stack_dir,
                progress=progress,
                yes=yes,
                dry_run=dry_run,
            )
        return _reported(app_ctx, result)

    run_env_command(ctx, "infra destroy", output, env, body)


@app.command(name="output")
def output_values(
    ctx: typer.Context,
    module: ModuleOption = None,
    stack_dir: StackDirOption = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Every module's outputs (sensitive values are never shown)."""
    from hyperscale.infra import core

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        return core.outputs(environment, app_ctx, modules=module, stack_dir=stack_dir)

    run_env_command(ctx, "infra output", output, env, body)


def _spinner(app_ctx: AppContext, title: str) -> AbstractContextManager[Progress]:
    from hyperscale.output import progress_spinner

    return progress_spinner(app_ctx, title)


def _reported(app_ctx: AppContext, result: StackRun) -> StackRun:
    """A failed module is also one line on stderr, whatever the output format."""
    line = result.failure_line()
    if line:
        from hyperscale.output import console_for

        console_for(app_ctx, stderr=True).print(f"[bold red]error:[/] {line}", markup=True)
    return result
