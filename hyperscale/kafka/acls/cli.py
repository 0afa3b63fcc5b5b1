"""`hyperscale kafka acls apply|diff`: thin commands over hyperscale.kafka.acls.core."""

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
    "Least privilege on Kafka: the ACLs of the services' own identities (kafka.services) and"
    " the operators', against the cluster's (create; delete what the environment does not"
    " grant only with --prune --yes)."
)

PruneOption = Annotated[
    bool,
    typer.Option(
        "--prune",
        help="Also delete the ACLs of these principals that the environment does not grant."
        " Applying needs --yes.",
    ),
]


@app.command("apply")
def acls_apply(
    ctx: typer.Context,
    dry_run: PlanOnlyOption = False,
    prune: PruneOption = False,
    yes: ConsentOption = False,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create the ACLs the environment grants; with --prune also delete those of its
    principals it does not grant (creations first)."""
    from hyperscale.kafka.acls.core import reconcile_acls
    from hyperscale.kafka.reconcile import ReconcileMode, ReconcileRequest

    mode = ReconcileMode.DRY_RUN if dry_run else ReconcileMode.APPLY
    request = ReconcileRequest(mode, prune=prune, yes=yes, bootstrap=bootstrap, timeout=timeout)
    run_reconcile(ctx, "kafka acls apply", request, env, output, reconcile_acls)


@app.command("diff")
def acls_diff(
    ctx: typer.Context,
    prune: PruneOption = False,
    bootstrap: BootstrapOption = None,
    timeout: TimeoutOption = 10.0,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """The plan apply would carry out; changes nothing. Exit 1 when the cluster's ACLs differ
    from the environment's grants (missing, or granted beyond them), 0 when in sync."""
    from hyperscale.kafka.acls.core import reconcile_acls
    from hyperscale.kafka.reconcile import ReconcileMode, ReconcileRequest

    request = ReconcileRequest(
        ReconcileMode.DIFF, prune=prune, bootstrap=bootstrap, timeout=timeout
    )
    run_reconcile(ctx, "kafka acls diff", request, env, output, reconcile_acls)
