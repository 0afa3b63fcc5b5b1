"""`hyperscale chaos ...`: thin commands over hyperscale.chaos.core and the drills engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result

app = command_group(
    "Chaos drills with a steady-state hypothesis before and after, measured recovery, a verdict"
    " (exit 0 ok, 1 deviated) and a JSON journal under <state>/drills/."
)


@app.command(name="kill-pods")
def kill_pods(
    ctx: typer.Context,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Kubernetes: the namespace (allow-listed)."),
    ] = None,
    selector: Annotated[
        str | None,
        typer.Option(
            "--selector", "-l", help="Label selector (local: kind=consumer, program=api)."
        ),
    ] = None,
    workload: Annotated[
        str | None,
        typer.Option("--workload", "-w", help="One workload: a program, a Deployment."),
    ] = None,
    count: Annotated[int | None, typer.Option(help="How many to kill.", min=1)] = None,
    percent: Annotated[
        float | None, typer.Option(help="Or a percentage of those selected.", min=1, max=100)
    ] = None,
    pick: Annotated[str, typer.Option(help="random, oldest or newest.")] = "random",
    force: Annotated[
        bool, typer.Option("--force", help="Delete pods instead of evicting (ignores PDBs).")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the targets and PDB headroom; touch nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm on a protected environment.")] = False,
    recovery_timeout: Annotated[
        str, typer.Option(help="Time allowed for evictions and for replacements (90s, 2m).")
    ] = "2m",
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Kill instances of a workload (pods by eviction, or supervised programs) and measure
    how long each takes to be replaced by a ready one."""
    from hyperscale.chaos.core import KillPodsSettings, parse_duration
    from hyperscale.chaos.core import kill_pods as drill

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        settings = KillPodsSettings(
            namespace,
            selector,
            workload,
            count,
            percent,
            pick,
            force,
            dry_run,
            yes,
            parse_duration(recovery_timeout, "--recovery-timeout"),
        )
        with progress_spinner(app_ctx, "chaos kill-pods") as progress:
            return drill(environment, app_ctx, settings, progress)

    run_env_command(ctx, "chaos kill-pods", output, env, body)


@app.command(name="kill-consumer")
def kill_consumer(
    ctx: typer.Context,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Kubernetes: the namespace (allow-listed)."),
    ] = None,
    workload: Annotated[
        str | None,
        typer.Option("--workload", "-w", help="The consumer to hit. Default: the first one."),
    ] = None,
    rate: Annotated[float, typer.Option(help="Orders per second through the API.", min=1)] = 20.0,
    before: Annotated[
        float, typer.Option(help="Seconds of orders before the kill.", min=0.5)
    ] = 3.0,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the target; touch nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm on a protected environment.")] = False,
    recovery_timeout: Annotated[
        str, typer.Option(help="Time allowed for the replacement and the lag (90s, 2m).")
    ] = "2m",
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Kill one consumer under a steady order stream: the lag rises, then must come back to
    its level before the kill; its peak is judged against the lag SLO."""
    from hyperscale.chaos.consumer import KillConsumerSettings
    from hyperscale.chaos.consumer import kill_consumer as drill
    from hyperscale.chaos.core import parse_duration

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        settings = KillConsumerSettings(
            namespace,
            workload,
            rate,
            before,
            parse_duration(recovery_timeout, "--recovery-timeout"),
            dry_run,
            yes,
        )
        with progress_spinner(app_ctx, "chaos kill-consumer") as progress:
            return drill(environment, app_ctx, settings, progress)

    run_env_command(ctx, "chaos kill-consumer", output, env, body)
