"""`hyperscale dr drill ...`: thin commands over the drills (hyperscale.dr.broker_loss,
hyperscale.dr.restore_drill, hyperscale.dr.replica_promotion) and the shared engine
(hyperscale.drills)."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperscale.boundary import run_env_progress_command
from hyperscale.options import BeforeOption, EnvOption, OutputOption, RateOption, command_group
from hyperscale.output import OutputFormat

app = command_group(
    "Recovery drills, run for real: a verdict (exit 0 ok, 1 deviated or aborted, 130"
    " interrupted), a timeline, measured recovery times, and a JSON journal under"
    " <state>/drills/."
)


@app.command(name="broker-loss")
def broker_loss(
    ctx: typer.Context,
    records: Annotated[int, typer.Option(help="Records of the acks=all load.", min=100)] = 20_000,
    rate: Annotated[float, typer.Option(help="Records per second.", min=1)] = 2_000.0,
    node: Annotated[
        int | None,
        typer.Option(help="Kafka node to kill (1-3). Default: the active controller.", min=1),
    ] = None,
    down: Annotated[
        float,
        typer.Option(
            help="Seconds the node stays down under load, at least: longer (up to 60 s)"
            " until the nodes left have acknowledged a write.",
            min=0,
        ),
    ] = 10.0,
    heal_timeout: Annotated[
        float, typer.Option(help="Seconds allowed to be healthy again.", min=1)
    ] = 180.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Kill one Kafka node under an acks=all load: health must turn degraded, writes must go
    on, the node comes back, health must be healthy again, no acknowledged record lost."""
    from hyperscale.dr.broker_loss import BrokerLossSettings
    from hyperscale.dr.broker_loss import broker_loss as drill

    settings = BrokerLossSettings(records, rate, node, down, heal_timeout)
    run_env_progress_command(
        ctx, "dr drill broker-loss", output, env, lambda e, a, p: drill(e, a, settings, p)
    )


@app.command(name="restore")
def restore_drill(
    ctx: typer.Context,
    rate: RateOption = 50.0,
    before: BeforeOption = 2.0,
    after: Annotated[
        float, typer.Option(help="Seconds of orders after it, until the primary is lost.", min=0)
    ] = 3.0,
    keep: Annotated[int, typer.Option(help="Backup retention: keep the newest N.", min=1)] = 7,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Back up while orders flow, restore into a scratch MariaDB, verify; measure the RPO (what
    the backup missed) and the RTO (restore + verification)."""
    from hyperscale.dr.restore_drill import RestoreDrillSettings
    from hyperscale.dr.restore_drill import restore_drill as drill

    settings = RestoreDrillSettings(rate, before, after, keep)
    run_env_progress_command(
        ctx, "dr drill restore", output, env, lambda e, a, p: drill(e, a, settings, p)
    )


@app.command(name="replica-promotion")
def replica_promotion(
    ctx: typer.Context,
    rate: RateOption = 50.0,
    before: BeforeOption = 3.0,
    after: Annotated[
        float, typer.Option(help="Seconds of orders on the promoted replica.", min=0.5)
    ] = 2.0,
    semi_sync: Annotated[
        bool,
        typer.Option(
            "--semi-sync", help="Semi-synchronous replication (AFTER_SYNC) for the drill."
        ),
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Crash the primary under an order stream, promote the replica, write to it, and count
    the orders the primary acknowledged that the promotion lost. The topology is put back."""
    from hyperscale.dr.replica_promotion import PromotionSettings
    from hyperscale.dr.replica_promotion import replica_promotion as drill

    settings = PromotionSettings(rate, before, after, semi_sync)
    run_env_progress_command(
        ctx, "dr drill replica-promotion", output, env, lambda e, a, p: drill(e, a, settings, p)
    )
