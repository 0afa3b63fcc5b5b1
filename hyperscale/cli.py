"""The root command: global options and the registration of each domain's commands, nothing else."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperscale import __version__
from hyperscale.boundary import app_context
from hyperscale.chaos.cli import app as chaos_app
from hyperscale.deploy import cli as deploy_cli
from hyperscale.dr.cli import app as dr_app
from hyperscale.health import cli as health_cli
from hyperscale.images.cli import app as images_app
from hyperscale.infra.cli import app as infra_app
from hyperscale.kafka.cli import app as kafka_app
from hyperscale.local.cli import app as local_app
from hyperscale.metrics.cli import app as metrics_app
from hyperscale.migrate.cli import app as migrate_app
from hyperscale.options import command_group
from hyperscale.render import cli as render_cli
from hyperscale.reports.cli import app as report_app
from hyperscale.smoke import cli as smoke_cli

app = command_group(
    "Render, deploy and operate an event-driven platform: Kafka, Kubernetes, MySQL, Redis.",
    name="hyperscale",
)
app.add_typer(local_app, name="local")
app.add_typer(kafka_app, name="kafka")
app.add_typer(infra_app, name="infra")
app.add_typer(migrate_app, name="migrate")
app.add_typer(images_app, name="images")
app.add_typer(metrics_app, name="metrics")
app.add_typer(report_app, name="report")
app.add_typer(dr_app, name="dr")
app.add_typer(chaos_app, name="chaos")
app.add_typer(deploy_cli.app, name="deploy")
app.command(name="rollback")(deploy_cli.rollback)
app.command(name="status")(deploy_cli.status)
app.command(name="smoke")(smoke_cli.smoke)
app.command(name="render")(render_cli.render)
app.command(name="health")(health_cli.health)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"hyperscale {__version__}")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log every step to stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    import logging  # here, not at the top: `hyperscale --help` never needs it

    app_context(ctx)
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # librdkafka's own log lines repeat, in its words, errors we already report in one line.
    logging.getLogger("hyperscale.librdkafka").setLevel(
        logging.DEBUG if verbose else logging.CRITICAL + 1
    )
