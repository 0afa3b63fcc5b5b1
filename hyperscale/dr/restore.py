"""`hyperscale dr restore|verify|discard`: a backup into a scratch MariaDB (or in place), then
every table's row count and ``CHECKSUM TABLE`` against the manifest. Returns results."""

from __future__ import annotations

import datetime as dt
import getpass
import socket
import time
from collections.abc import Callable
from dataclasses import replace

from hyperscale.clients.mysql_backup import TableFigures, copy_back, replay_binlogs, table_figures
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.dr.core import local_primary
from hyperscale.dr.results import (
    DiscardResult,
    RestoreResult,
    TableCheck,
    Verification,
    VerifyResult,
)
from hyperscale.dr.scratch import ScratchMariaDB
from hyperscale.dr.store import BackupStore, Manifest
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.local.core import ensure_running
from hyperscale.local.services.base import BackingService
from hyperscale.local.services.mariadb import MariaDBService
from hyperscale.progress import Progress, quiet
from hyperscale.targets import require_local


def compare(manifest: Manifest, figures: list[TableFigures], seconds: float) -> Verification:
    found = {f.table: f for f in figures}
    checks = []
    for record in manifest.tables:
        got = found.pop(record.table, None)
        checks.append(
            TableCheck(
                record.table,
                record.rows,
                got.rows if got else None,
                record.checksum,
                got.checksum if got else None,
            )
        )
    checks.extend(TableCheck(f.table, None, f.rows, None, f.checksum) for f in found.values())
    return Verification(manifest.id, checks, seconds)


def verify_server(manifest: Manifest, socket_path: str, database: str) -> Verification:
    started = time.monotonic()
    figures = table_figures(socket_path, getpass.getuser(), database)
    return compare(manifest, figures, time.monotonic() - started)


def restore(
    env: Environment,
    app: AppContext,
    *,
    backup_id: str | None,
    in_place: bool = False,
    yes: bool = False,
    port: int | None = None,
    dry_run: bool = False,
    until: dt.datetime | None = None,
    progress: Progress = quiet,
) -> RestoreResult:
    """Restore and verify; with ``until``, then replay the primary's binary logs up to that
    time (point-in-time recovery, into scratch only). Every refusal comes before anything is
    touched."""
    if in_place and env.protected:
        raise UsageError(
            f"{env.name} is protected: restoring it in place is refused, even with --yes",
            hint="restore into a scratch server (the default) and copy back what you need",
        )
    require_local(
        env,
        app,
        "`dr restore` restores the local MariaDB; restoring an RDS snapshot is not built yet",
        hint="restore it with `aws rds restore-db-instance-from-db-snapshot`, or use --env local",
    )
    manifest = BackupStore(app, env.name).get(backup_id)
    if until is not None:
        _check_until(manifest, until, in_place=in_place)
    if in_place:
        return _in_place(env, app, manifest, yes=yes, dry_run=dry_run, progress=progress)
    result = _into_scratch(env, app, manifest, port=port, dry_run=dry_run, progress=progress)
    if until is None or dry_run or result.exit_code is not ExitCode.OK:
        return result  # a backup that does not verify is not rolled forward
    return _replay(env, app, result, manifest, until, progress)


def _check_until(manifest: Manifest, until: dt.datetime, *, in_place: bool) -> None:
    if in_place:
        raise UsageError(
            "--until recovers into a scratch server only",
            hint="leave out --in-place, then copy back what you need",
        )
    if not manifest.binlog_file:
        raise UsageError(f"backup {manifest.id} has no binary log position to replay from")
    if until.astimezone(dt.UTC) < manifest.created:
        raise UsageError(
            f"--until {until.isoformat()} is before backup {manifest.id} was taken"
            f" ({manifest.finished_at})",
            hint="choose an older backup with --backup",
        )


def _replay(
    env: Environment,
    app: AppContext,
    result: RestoreResult,
    manifest: Manifest,
    until: dt.datetime,
    progress: Progress,
) -> RestoreResult:
    """Verify first (the backup itself), then roll forward: after the replay the tables hold
    more than the manifest, so the verification stays the backup's."""
    primary = MariaDBService(env, app)
    scratch = ScratchMariaDB.current(env, app)
    if scratch is None:
        raise ExternalSystemError("the scratch MariaDB vanished before the replay")
    stop = until.astimezone().strftime("%Y-%m-%d %H:%M:%S")  # mariadb-binlog reads local time
    progress(f"replaying the binary logs from {manifest.binlog_file}:{manifest.binlog_position}")
    started = time.monotonic()
    replayed = replay_binlogs(
        primary.home / "data",
        manifest.binlog_file,
        manifest.binlog_position,
        stop,
        scratch[0].socket_path,
        getpass.getuser(),
    )
    notes = [
        f"rolled forward to {until.isoformat()}: {replayed} transactions replayed from the"
        f" primary's binary logs in {time.monotonic() - started:.1f}s (verified before it)",
        *result.notes,
    ]
    return replace(
        result,
        restore_seconds=result.restore_seconds + time.monotonic() - started,
        recovered_until=until.isoformat(),
        transactions_replayed=replayed,
        notes=notes,
    )


def _into_scratch(
    env: Environment,
    app: AppContext,
    manifest: Manifest,
    *,
    port: int | None,
    dry_run: bool,
    progress: Progress,
) -> RestoreResult:
    current = ScratchMariaDB.current(env, app)
    if port is None:
        port = free_loopback_port()
    elif _taken(port) and not (current and current[0].port == port and _running(current[0])):
        raise UsageError(
            f"port {port} on 127.0.0.1 is taken: the scratch MariaDB cannot listen there",
            hint="choose another --port, or leave it out for a free one",
        )
    store = BackupStore(app, env.name)
    scratch = ScratchMariaDB(env, app, port, store.data_dir(manifest.id))
    address = str(scratch.endpoint)
    plan = [
        *([f"stop and remove the scratch MariaDB holding {current[1]}"] if current else []),
        f"copy backup {manifest.id} into {scratch.data_dir}",
        f"start a scratch MariaDB on {address}",
        f"verify {len(manifest.tables)} tables against the manifest",
    ]
    if dry_run:
        return RestoreResult(manifest.id, "into scratch", address, 0.0, None, True, plan)
    notes = []
    if current:
        current[0].remove()
        notes.append(f"replaced the scratch MariaDB that held backup {current[1]}")
    started = time.monotonic()
    progress(f"restoring {manifest.id} into a scratch MariaDB on {address}")
    _start(scratch, progress, cleanup=scratch.remove)
    scratch.remember(manifest.id)
    restored = time.monotonic() - started
    progress("verifying row counts and checksums")
    verification = verify_server(manifest, scratch.socket_path, manifest.database)
    notes.append("`hyperscale dr discard` stops it and removes its data")
    return RestoreResult(manifest.id, "into scratch", address, restored, verification, notes=notes)


def _in_place(
    env: Environment,
    app: AppContext,
    manifest: Manifest,
    *,
    yes: bool,
    dry_run: bool,
    progress: Progress,
) -> RestoreResult:
    primary = local_primary(env, app, "`dr restore --in-place` replaces the local MariaDB")
    data = primary.home / "data"
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = primary.home / f"data.before-restore-{stamp}"
    address = str(primary.endpoint)
    plan = [
        f"stop the MariaDB of {env.name} on {address}",
        f"move its data directory aside to {aside}",
        f"copy backup {manifest.id} into {data}",
        f"start it and verify {len(manifest.tables)} tables against the manifest",
    ]
    if dry_run:
        return RestoreResult(manifest.id, "in place", address, 0.0, None, True, plan)
    if not yes:
        raise UsageError(
            f"restoring in place replaces the database of {env.name} with backup {manifest.id}",
            hint="add --yes to go ahead; --dry-run shows each step",
        )
    started = time.monotonic()
    progress(f"stopping the MariaDB of {env.name}")
    with primary.process.lock():
        primary.process.stop()
    data.rename(aside)
    progress(f"copying backup {manifest.id} into {data}")
    copy_back(BackupStore(app, env.name).data_dir(manifest.id), data)
    _start(primary, progress)
    restored = time.monotonic() - started
    verification = verify_server(manifest, primary.socket_path, manifest.database)
    notes = [f"the replaced data is kept in {aside}; delete it once satisfied"]
    if env.mysql.reader != env.mysql.writer:
        notes.append(
            "the replica follows the replaced history:"
            f" `hyperscale local up mysql-replica --env {env.name}` seeds it again"
        )
    return RestoreResult(manifest.id, "in place", address, restored, verification, notes=notes)


def _start(
    service: BackingService, progress: Progress, cleanup: Callable[[], object] | None = None
) -> None:
    outcome = ensure_running(service, progress)
    if not outcome.state.healthy:
        if cleanup is not None:
            cleanup()
        raise ExternalSystemError(
            f"{service.name} did not start from the backup: {outcome.detail}",
            hint=f"see {outcome.log_path}",
            details=outcome.log_tail,
        )


def verify(env: Environment, app: AppContext, backup_id: str | None = None) -> VerifyResult:
    """Check the scratch server again (after someone used it) against its backup's manifest."""
    current = ScratchMariaDB.current(env, app)
    if current is None or not _running(current[0]):
        raise UsageError(
            f"no scratch MariaDB is running for {env.name}",
            hint=f"restore one with `hyperscale dr restore --env {env.name}`",
        )
    scratch, held = current
    manifest = BackupStore(app, env.name).get(backup_id or held)
    verification = verify_server(manifest, scratch.socket_path, manifest.database)
    return VerifyResult(str(scratch.endpoint), verification)


def discard(env: Environment, app: AppContext) -> DiscardResult:
    current = ScratchMariaDB.current(env, app)
    scratch = current[0] if current else ScratchMariaDB(env, app, 0)
    with scratch.process.lock():
        stopped = scratch.process.stop()
    existed = scratch.home.is_dir()
    scratch.remove()
    return DiscardResult(stopped, str(scratch.home) if existed else None)


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _taken(port: int) -> bool:
    """Whether a server could not listen on ``port`` (someone holds it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _running(service: ScratchMariaDB) -> bool:
    return service.process.running() is not None
