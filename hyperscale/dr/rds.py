"""`hyperscale dr backup|backups` on environments with an AWS account: manual RDS snapshots
of the environment's instance (``hyperscale-ENV``, as the Terraform module names it), tagged
so retention deletes only its own. A snapshot has no table figures: RDS cannot checksum one
without restoring it, which is not built yet (docs/failure-scenarios.md)."""

from __future__ import annotations

import datetime as dt
import time

from hyperscale.clients.rds_snapshots import (
    RdsSnapshot,
    delete_snapshot,
    dr_snapshots,
    take_snapshot,
)
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.dr.results import BackupListResult, BackupResult
from hyperscale.dr.store import Manifest, expired
from hyperscale.progress import Progress, quiet


def rds_instance(env: Environment) -> str:
    return f"hyperscale-{env.name}"


def _manifest(
    env: Environment, snapshot: RdsSnapshot, started: dt.datetime, seconds: float
) -> Manifest:
    created = (snapshot.created or started).isoformat()
    return Manifest(
        id=snapshot.id,
        env=env.name,
        kind="rds-snapshot",
        database=env.mysql.database,
        started_at=started.isoformat() if seconds else created,
        finished_at=created,
        binlog_file="",
        binlog_position=0,
        gtid="",
        size_bytes=snapshot.allocated_gb * 1024**3,
        server_version=snapshot.engine,
        write_pause_seconds=0.0,
        duration_seconds=round(seconds, 3),
    )


def rds_backup(
    env: Environment,
    app: AppContext,
    *,
    keep: int,
    max_age: dt.timedelta | None,
    prune: bool,
    progress: Progress = quiet,
) -> BackupResult:
    instance = rds_instance(env)
    started = dt.datetime.now(dt.UTC)
    clock = time.monotonic()
    snapshot_id = f"{instance}-dr-{started.strftime('%Y%m%d%H%M%S')}"
    progress(f"snapshotting RDS instance {instance}")
    snapshot = take_snapshot(env.aws, instance, snapshot_id)
    manifest = _manifest(env, snapshot, started, time.monotonic() - clock)
    pruned: list[str] = []
    if prune:
        listed = [_manifest(env, s, started, 0.0) for s in dr_snapshots(env.aws, instance)]
        for doomed in expired(listed, keep=keep, max_age=max_age, now=dt.datetime.now(dt.UTC)):
            delete_snapshot(env.aws, doomed.id)
            pruned.append(doomed.id)
    return BackupResult(manifest, f"rds:{env.aws.region}:{snapshot.id}", pruned)


def rds_backups(env: Environment, app: AppContext) -> BackupListResult:
    snapshots = dr_snapshots(env.aws, rds_instance(env))
    now = dt.datetime.now(dt.UTC)
    return BackupListResult(env.name, [_manifest(env, s, now, 0.0) for s in snapshots])
