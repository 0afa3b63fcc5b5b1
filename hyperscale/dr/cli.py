"""`hyperscale dr`: thin commands over hyperscale.dr.core and hyperscale.dr.restore."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from hyperscale.boundary import run_env_command
from hyperscale.dr.drill_cli import app as drill_app
from hyperscale.options import EnvOption, OutputOption, command_group
from hyperscale.output import OutputFormat

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.output import Result

app = command_group(
    "Disaster recovery: verified backups and restores, and drills that measure RPO and RTO."
)

app.add_typer(drill_app, name="drill")

BackupOption = Annotated[
    str | None,
    typer.Option("--backup", "-b", help="Backup id (`dr backups`). Default: the newest."),
]


@app.command()
def backup(
    ctx: typer.Context,
    keep: Annotated[int, typer.Option(help="Retention: keep the newest N backups.", min=1)] = 7,
    max_age: Annotated[
        str,
        typer.Option(
            help="Retention: remove backups older than this (14d, 12h, 2w); the newest always"
            " stays."
        ),
    ] = "14d",
    yes: Annotated[
        bool, typer.Option("--yes", help="Let retention delete on a protected environment.")
    ] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """A consistent backup of the platform database: on the local target mariadb-backup into
    the state directory, with a manifest (time, binary log position, size, every table's row
    count and CHECKSUM TABLE value); on an environment with an AWS account a manual RDS
    snapshot. Then retention by count and age (on a protected environment only with --yes)."""
    from hyperscale.dr.core import backup as take_backup
    from hyperscale.dr.core import parse_age

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        age = parse_age(max_age, "--max-age")
        with progress_spinner(app_ctx, "backing up") as progress:
            return take_backup(
                environment, app_ctx, keep=keep, max_age=age, progress=progress, yes=yes
            )

    run_env_command(ctx, "dr backup", output, env, body)


@app.command(name="backups")
def list_backups(
    ctx: typer.Context, env: EnvOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """The environment's backups, newest first."""
    from hyperscale.dr.core import backups

    run_env_command(ctx, "dr backups", output, env, backups)


@app.command()
def restore(
    ctx: typer.Context,
    backup_id: BackupOption = None,
    into: Annotated[
        str, typer.Option("--into", help="scratch: a MariaDB started for the purpose.")
    ] = "scratch",
    in_place: Annotated[
        bool,
        typer.Option(
            "--in-place", help="Replace the environment's own database (never on protected ones)."
        ),
    ] = False,
    port: Annotated[
        int | None,
        typer.Option(help="The scratch server's port on 127.0.0.1. Default: a free one.", min=1),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            help="Point in time: after the restore, replay the primary's binary logs up to this"
            " time (ISO 8601; without a zone, local time). Into scratch only.",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Go ahead with --in-place.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the steps only.")] = False,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Restore a backup into a scratch MariaDB (default) or in place, then verify every table's
    row count and CHECKSUM TABLE against the manifest. Exit 1 naming each table that differs."""
    from hyperscale.dr.restore import restore as do_restore
    from hyperscale.errors import UsageError

    def body(environment: Environment, app_ctx: AppContext) -> Result:
        from hyperscale.output import progress_spinner

        if into != "scratch":
            raise UsageError(f"--into {into!r}: only scratch is known", hint="or use --in-place")
        point = _point_in_time(until)
        with progress_spinner(app_ctx, "restoring") as progress:
            return do_restore(
                environment,
                app_ctx,
                backup_id=backup_id,
                in_place=in_place,
                yes=yes,
                port=port,
                dry_run=dry_run,
                until=point,
                progress=progress,
            )

    run_env_command(ctx, "dr restore", output, env, body)


def _point_in_time(text: str | None) -> dt.datetime | None:
    from hyperscale.errors import UsageError

    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--until {text!r} is not a time", hint="ISO 8601, e.g. 2026-11-30T17:20:00Z"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


@app.command()
def verify(
    ctx: typer.Context,
    backup_id: BackupOption = None,
    env: EnvOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Verify the scratch MariaDB again against a manifest (default: the backup it holds)."""
    from hyperscale.dr.restore import verify as do_verify

    run_env_command(
        ctx, "dr verify", output, env, lambda e, a: do_verify(e, a, backup_id=backup_id)
    )


@app.command()
def discard(
    ctx: typer.Context, env: EnvOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """Stop the scratch MariaDB and remove its data."""
    from hyperscale.dr.restore import discard as do_discard

    run_env_command(ctx, "dr discard", output, env, do_discard)
