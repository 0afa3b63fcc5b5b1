"""`hyperscale kafka topics apply|diff`: thin commands over hyperscale.kafka.topics.core."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperscale.kafka.options import (
    BootstrapOption,
    ConsentOption,
    PlanOnlyOption,
    TimeoutOption,
    run_reconcile,
)
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat

app = command_group(
    "Topics as code: templates/kafka/topics.yaml.j2 against the cluster (create, add"
    " partitions, set configs; delete only with --prune --yes)."
)

PruneOption = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Also delete topics the template manages (its `managed` globs) but no longer"
        " lists. Never internal topics. Applying needs --yes.",
    ),
]


@app.command("apply")
def topics_apply(
    ctx: typer.Context,
    dry_run: PlanOnlyOption = False,
    prune: PruneOption = False,
    yes: ConsentOption = False,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Make the cluster's topics match the template. Exit 1 when the template asks what
    Kafka cannot do (fewer partitions, another replication factor); the rest is applied."""
    from hyperscale.kafka.reconcile import ReconcileMode, ReconcileRequest
    from hyperscale.kafka.topics.core import reconcile_topics

    mode = ReconcileMode.DRY_RUN if dry_run else ReconcileMode.APPLY
    request = ReconcileRequest(mode, prune=prune, yes=yes, bootstrap=bootstrap, timeout=timeout)
    run_reconcile(ctx, "kafka topics apply", request, env, output, reconcile_topics)


@app.command("diff")
def topics_diff(
    ctx: typer.Context,
    prune: PruneOption = False,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The plan apply would carry out; changes nothing. Exit 1 when the cluster differs from
    the template (drift), 0 when in sync."""
    from hyperscale.kafka.reconcile import ReconcileMode, ReconcileRequest
    from hyperscale.kafka.topics.core import reconcile_topics

    request = ReconcileRequest(
        ReconcileMode.DIFF, prune=prune, bootstrap=bootstrap, timeout=timeout
    )
    run_reconcile(ctx, "kafka topics diff", request, env, output, reconcile_topics)
