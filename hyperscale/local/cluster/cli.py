"""`hyperscale local cluster up|down|status`: thin commands over hyperscale.local.cluster.core."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat, progress_spinner

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.local.cluster.results import ClusterResult

app = command_group(
    "The sandbox Kubernetes cluster: etcd, kube-apiserver, controller manager and scheduler"
    " as local processes, kwok for nodes and pods."
)


@app.command()
def up(
    ctx: typer.Context,
    real_node: Annotated[
        bool,
        typer.Option(
            "--real-node",
            help="Also start a real node (containerd and a kubelet) whose pods really run;"
            " local.cluster.real_node.enabled in the environment does the same.",
        ),
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Build the binaries if needed, start the control plane and one node per zone."""
    from hyperscale.local.cluster import core

    def body(environment: Environment, app_ctx: AppContext) -> ClusterResult:
        with progress_spinner(app_ctx, "sandbox cluster") as progress:
            return core.up(environment, app_ctx, progress, real_node=real_node)

    run_env_command(ctx, "local cluster up", output, env, body)


@app.command()
def down(
    ctx: typer.Context,
    delete: Annotated[
        bool, typer.Option("--delete", help="Also delete the cluster's data (etcd, certificates).")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Stop the cluster's processes (the real node's pods drained, its containers, mounts and
    bridge removed: exit 1 if any is left); its state stays unless --delete."""
    from hyperscale.local.cluster import core

    run_env_command(
        ctx, "local cluster down", output, env, lambda e, a: core.down(e, a, delete=delete)
    )


@app.command()
def status(
    ctx: typer.Context, env: EnvOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """Each component's process, the server version and the nodes (exit 1 if not healthy)."""
    from hyperscale.local.cluster import core

    run_env_command(ctx, "local cluster status", output, env, core.status)
