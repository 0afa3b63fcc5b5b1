"""`hyperscale chaos ...`: thin commands over hyperscale.chaos.core and the drills engine."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_progress_command
from hyperscale.options import (
    BeforeOption,
    DryRunOption,
    EnvOption,
    NamespaceOption,
    OutputOption,
    RateOption,
    RecoveryTimeoutOption,
    WorkloadOption,
    YesOption,
    command_group,
)
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from collections.abc import Callable

    from hyperscale.chaos.outage import OutageSettings
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result
    from hyperscale.progress import Progress

    OutageDrill = Callable[[Environment, AppContext, OutageSettings, Progress], Result]

app = command_group(
    "Chaos drills with a steady-state hypothesis before, during (an early abort) and after,"
    " measured recovery, a verdict (exit 0 ok, 1 deviated or aborted, 2 refused, 130"
    " interrupted) and a JSON journal under <state>/drills/."
)

DownOption = Annotated[float, typer.Option("--down", help="Seconds the service stays down.", min=0)]
CrashOption = Annotated[
    bool, typer.Option("--crash", help="SIGKILL the service (a crash) instead of stopping it.")
]
MaxRefusalOption = Annotated[
    str, typer.Option("--max-refusal", help="Slowest answer allowed while it is down (2s).")
]


@app.command(name="kill-pods")
def kill_pods(
    ctx: typer.Context,
    namespace: NamespaceOption = None,
    selector: Annotated[
        str | None,
        typer.Option(
            "--selector", "-l", help="Label selector (local: kind=consumer, program=api)."
        ),
    ] = None,
    workload: WorkloadOption = None,
    count: Annotated[int | None, typer.Option(help="How many to kill.", min=1)] = None,
    percent: Annotated[
        float | None, typer.Option(help="Or a percentage of those selected.", min=1, max=100)
    ] = None,
    pick: Annotated[str, typer.Option(help="random, oldest or newest.")] = "random",
    force: Annotated[
        bool, typer.Option("--force", help="Delete pods instead of evicting (ignores PDBs).")
    ] = False,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    recovery_timeout: RecoveryTimeoutOption = "2m",
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Kill instances of a workload (pods by eviction, or supervised programs) and measure
    how long each takes to be replaced by a ready one."""
    from hyperscale.chaos.core import KillPodsSettings, parse_duration
    from hyperscale.chaos.core import kill_pods as drill

    def settings() -> KillPodsSettings:
        timeout = parse_duration(recovery_timeout, "--recovery-timeout")
        return KillPodsSettings(
            namespace, selector, workload, count, percent, pick, force, dry_run, yes, timeout
        )

    run_env_progress_command(
        ctx, "chaos kill-pods", output, env, lambda e, a, p: drill(e, a, settings(), p)
    )


@app.command(name="kill-consumer")
def kill_consumer(
    ctx: typer.Context,
    namespace: NamespaceOption = None,
    workload: WorkloadOption = None,
    rate: RateOption = 20.0,
    before: BeforeOption = 3.0,
    dry_run: DryRunOption = False,
    yes: YesOption = False,
    recovery_timeout: RecoveryTimeoutOption = "2m",
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Kill one consumer under a steady order stream: the lag rises, then must come back to
    its level before the kill; its peak is judged against the lag SLO."""
    from hyperscale.chaos.consumer import KillConsumerSettings
    from hyperscale.chaos.consumer import kill_consumer as drill
    from hyperscale.chaos.core import parse_duration

    def settings() -> KillConsumerSettings:
        timeout = parse_duration(recovery_timeout, "--recovery-timeout")
        return KillConsumerSettings(namespace, workload, rate, before, timeout, dry_run, yes)

    run_env_progress_command(
        ctx, "chaos kill-consumer", output, env, lambda e, a, p: drill(e, a, settings(), p)
    )


def _outage_command(
    name: str, doc: str, timeout_default: str, run: Callable[[], OutageDrill]
) -> None:
    """`chaos broker-restart` and `chaos db-failover` take the same options: one definition."""

    def command(
        ctx: typer.Context,
        rate: RateOption = 20.0,
        before: BeforeOption = 2.0,
        down: DownOption = 5.0,
        crash: CrashOption = False,
        max_refusal: MaxRefusalOption = "2s",
        dry_run: DryRunOption = False,
        yes: YesOption = False,
        recovery_timeout: RecoveryTimeoutOption = timeout_default,
        env: EnvOption = None,
        output: OutputOption = OutputFormat.table,
    ) -> None:
        from hyperscale.chaos.core import parse_duration
        from hyperscale.chaos.outage import OutageSettings

        def settings() -> OutageSettings:
            return OutageSettings(
                rate,
                before,
                down,
                crash,
                parse_duration(max_refusal, "--max-refusal"),
                parse_duration(recovery_timeout, "--recovery-timeout"),
                dry_run,
                yes,
            )

        run_env_progress_command(
            ctx, f"chaos {name}", output, env, lambda e, a, p: run()(e, a, settings(), p)
        )

    command.__doc__ = doc
    app.command(name=name)(command)


def _broker_restart() -> OutageDrill:
    from hyperscale.chaos.outage import broker_restart

    return broker_restart


def _db_failover() -> OutageDrill:
    from hyperscale.chaos.failover import db_failover

    return db_failover


_outage_command(
    "broker-restart",
    """Local target: stop Kafka under an order stream through the API and start it again. The
    API must answer 503 fast while it is down, accept orders again after, and lose none.""",
    "2m",
    _broker_restart,
)
_outage_command(
    "db-failover",
    """Local target: restart MariaDB (the primary) under an order stream through the API; no
    accepted order may be lost. AWS environments: reboot the RDS instance with failover to its
    Multi-AZ standby (--rate, --before, --down, --crash, --max-refusal are local only).""",
    "10m",
    _db_failover,
)
