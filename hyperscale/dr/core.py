"""`hyperscale dr backup|backups`: consistent backups of the platform database with a manifest
to verify restores against, and their retention. Returns results; never prints.

The local target is backed up with mariadb-backup (physical copy, prepared at once), chosen
over ``mariadb-dump --single-transaction`` by measurement: its restore is a file copy and a
server start instead of replaying every row (benchmarks/dr_backup.py, docs/benchmarks.md).
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hyperscale.clients.mysql_backup import backup_files, prepare_backup, writes_paused
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.dr.results import BackupListResult, BackupResult
from hyperscale.dr.store import BackupStore, Manifest, TableRecord, directory_size, expired
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.local.services.mariadb import MariaDBService
from hyperscale.progress import Progress, quiet
from hyperscale.targets import require_local

_AGE = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str, option: str) -> dt.timedelta:
    """``14d``, ``12h``, ``2w``; a UsageError naming the option otherwise."""
    match = _AGE.match(text.strip())
    if not match:
        raise UsageError(f"{option}: {text!r} is not an age such as 14d, 12h or 2w")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def local_primary(env: Environment, app: AppContext, purpose: str) -> MariaDBService:
    """The environment's local MariaDB, running; a clear error otherwise."""
    require_local(env, app, purpose, hint="use --env local")
    primary = MariaDBService(env, app)
    if primary.process.running() is None or not Path(primary.socket_path).exists():
        raise ExternalSystemError(
            f"the MariaDB of {env.name} ({env.mysql.writer}) is not running",
            hint=f"start it with `hyperscale local up mysql --env {env.name}`",
        )
    return primary


def backup(
    env: Environment,
    app: AppContext,
    *,
    keep: int,
    max_age: dt.timedelta | None,
    progress: Progress = quiet,
    yes: bool = False,
) -> BackupResult:
    """A consistent backup with its manifest, then retention: on the local target a physical
    copy of MariaDB; on an environment with an AWS account an RDS snapshot. Retention on a
    protected environment deletes only with ``yes``."""
    if keep < 1:
        raise UsageError("--keep must be at least 1: retention never removes the newest backup")
    if env.infra is not None:
        from hyperscale.dr.rds import rds_backup

        may_delete = yes or not env.protected
        return rds_backup(env, app, keep=keep, max_age=max_age, prune=may_delete, progress=progress)
    primary = local_primary(env, app, "`dr backup` copies the local MariaDB's files")
    store = BackupStore(app, env.name)
    store.discard_partial()
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    backup_id = store.new_id(started)
    staging = store.staging(backup_id)
    os_user = getpass.getuser()
    try:
        progress("pausing writes: binary log position, row counts and checksums")
        with writes_paused(primary.socket_path, os_user) as paused:
            paused_at = time.monotonic()
            position = paused.position()
            version = paused.server_version()
            progress("copying the data files (mariadb-backup) and checksumming the tables")
            # Both read the same frozen data: side by side, the pause is the longer of the two.
            with ThreadPoolExecutor(max_workers=1) as pool:
                copying = pool.submit(
                    backup_files,
                    primary.defaults_file,
                    primary.socket_path,
                    os_user,
                    staging / "data",
                )
                figures = paused.figures(env.mysql.database)
                copying.result()
            pause = time.monotonic() - paused_at
        progress("preparing the backup (applying its redo log)")
        prepare_backup(staging / "data")
        manifest = Manifest(
            id=backup_id,
            env=env.name,
            kind="mariadb-backup",
            database=env.mysql.database,
            started_at=started.isoformat(),
            finished_at=dt.datetime.now(dt.UTC).isoformat(),
            binlog_file=position.file,
            binlog_position=position.position,
            gtid=position.gtid,
            size_bytes=directory_size(staging / "data"),
            server_version=version,
            write_pause_seconds=round(pause, 3),
            duration_seconds=round(time.monotonic() - clock, 3),
            tables=[TableRecord(f.table, f.rows, f.checksum) for f in figures],
        )
        path = store.commit(staging, manifest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pruned = prune(env, app, keep=keep, max_age=max_age)
    return BackupResult(manifest, str(path), pruned)


def prune(
    env: Environment, app: AppContext, *, keep: int, max_age: dt.timedelta | None
) -> list[str]:
    """Remove what retention does not keep; the ids removed."""
    store = BackupStore(app, env.name)
    doomed = expired(store.manifests(), keep=keep, max_age=max_age, now=dt.datetime.now(dt.UTC))
    for manifest in doomed:
        store.delete(manifest.id)
    return [m.id for m in doomed]


def backups(env: Environment, app: AppContext) -> BackupListResult:
    if env.infra is not None:
        from hyperscale.dr.rds import rds_backups

        return rds_backups(env, app)
    return BackupListResult(env.name, BackupStore(app, env.name).manifests())
