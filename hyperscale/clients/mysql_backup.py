"""The adapter to MariaDB's physical backups (`hyperscale dr`): mariadb-backup for the files,
PyMySQL for the figures a restore is verified against.

Everything is done over the local server's unix socket as the OS user (socket
authentication), so no administrator password exists and none reaches a command line.

Why the figures are taken under ``FLUSH TABLES WITH READ LOCK``: ``CHECKSUM TABLE`` does not
read through a consistent-snapshot transaction (it sees the latest committed rows; checked on
MariaDB 10.11), so the only way to have checksums of exactly the data the backup holds is to
stop commits while both are taken. The pause lasts as long as the file copy (figures in
docs/failure-scenarios.md); reads go on.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.errors import ExternalSystemError
from hyperscale.runner import run


@dataclass(frozen=True)
class BinlogPosition:
    """Where the backup stands in the primary's binary log: file, offset and GTID position."""

    file: str
    position: int
    gtid: str


@dataclass(frozen=True)
class TableFigures:
    """One table's row count and ``CHECKSUM TABLE`` value."""

    table: str
    rows: int
    checksum: int | None


class PausedWrites:
    """A session holding the global read lock: commits wait, reads and the copy go on."""

    def __init__(self, cursor: Any) -> None:
        self._cur = cursor

    def position(self) -> BinlogPosition:
        self._cur.execute("SHOW MASTER STATUS")
        row = self._cur.fetchone()
        self._cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        gtid = self._cur.fetchone()
        if not row:
            return BinlogPosition("", 0, str(gtid[0]) if gtid else "")
        return BinlogPosition(str(row[0]), int(row[1]), str(gtid[0]) if gtid else "")

    def figures(self, database: str) -> list[TableFigures]:
        return _figures(self._cur, database)

    def server_version(self) -> str:
        self._cur.execute("SELECT VERSION()")
        row = self._cur.fetchone()
        return str(row[0]) if row else "unknown"


@contextlib.contextmanager
def writes_paused(socket_path: str, os_user: str) -> Iterator[PausedWrites]:
    """Hold ``FLUSH TABLES WITH READ LOCK`` for the block; released whatever happens."""
    import pymysql

    try:
        conn = pymysql.connect(unix_socket=socket_path, user=os_user, connect_timeout=5)
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"cannot reach MariaDB on {socket_path}: {exc}") from None
    try:
        with conn.cursor() as cur:
            try:
                cur.execute("SET SESSION lock_wait_timeout = 30")
                cur.execute("FLUSH TABLES WITH READ LOCK")
            except pymysql.MySQLError as exc:
                raise ExternalSystemError(f"cannot pause writes for the backup: {exc}") from None
            try:
                yield PausedWrites(cur)
            except pymysql.MySQLError as exc:
                raise ExternalSystemError(f"reading the backup's figures failed: {exc}") from None
            finally:
                with contextlib.suppress(pymysql.MySQLError):
                    cur.execute("UNLOCK TABLES")
    finally:
        conn.close()


def table_figures(socket_path: str, os_user: str, database: str) -> list[TableFigures]:
    """Row counts and checksums of every base table of ``database`` on a local server."""
    import pymysql

    try:
        with (
            pymysql.connect(unix_socket=socket_path, user=os_user, connect_timeout=5) as conn,
            conn.cursor() as cur,
        ):
            return _figures(cur, database)
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"reading tables on {socket_path} failed: {exc}") from None


def _figures(cur: Any, database: str) -> list[TableFigures]:
    cur.execute(
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = %s AND table_type = 'BASE TABLE' ORDER BY table_name",
        (database,),
    )
    names = [str(row[0]) for row in cur.fetchall()]
    figures = []
    for name in names:
        qualified = f"`{database}`.`{name}`"
        cur.execute(f"SELECT COUNT(*) FROM {qualified}")  # noqa: S608 - names from the catalogue
        count = cur.fetchone()
        cur.execute(f"CHECKSUM TABLE {qualified}")
        checksum = cur.fetchone()
        value = checksum[1] if checksum else None
        figures.append(
            TableFigures(name, int(count[0]) if count else 0, None if value is None else int(value))
        )
    return figures


def backup_files(defaults_file: str, socket_path: str, os_user: str, target: Path) -> None:
    """``mariadb-backup --backup`` of the server into ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    run(
        [
            _program(),
            f"--defaults-file={defaults_file}",
            "--backup",
            f"--target-dir={target}",
            f"--socket={socket_path}",
            f"--user={os_user}",
            "--parallel=2",
        ],
        timeout=3600,
        what="mariadb-backup --backup",
    )


def prepare_backup(target: Path) -> None:
    """``mariadb-backup --prepare``: a prepared backup restores by copying files, and preparing
    (applying the redo log copied with it) is the first proof the backup is whole."""
    run(
        [_program(), "--prepare", f"--target-dir={target}"],
        timeout=3600,
        what="mariadb-backup --prepare",
    )


def copy_back(backup: Path, data_dir: Path) -> None:
    """The prepared backup's files into an empty ``data_dir`` (the backup stays reusable)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if any(data_dir.iterdir()):
        raise ExternalSystemError(f"cannot restore into {data_dir}: it is not empty")
    run(
        [
            _program(),
            "--no-defaults",
            "--copy-back",
            f"--target-dir={backup}",
            f"--datadir={data_dir}",
            "--parallel=2",
        ],
        timeout=3600,
        what="mariadb-backup --copy-back",
    )


def _program() -> str:
    import shutil

    found = shutil.which("mariadb-backup") or shutil.which("mariabackup")
    if not found:
        raise ExternalSystemError(
            "mariadb-backup is not installed (Debian package mariadb-backup)",
            hint="run `make bootstrap`, or `apt-get install mariadb-backup`",
        )
    return found


def replay_binlogs(
    data_dir: Path,
    first_file: str,
    start_position: int,
    stop_datetime: str,
    socket_path: str,
    os_user: str,
) -> int:
    """Point-in-time recovery: the primary's binary logs from the backup's position up to
    ``stop_datetime`` (the server's local time, ``YYYY-MM-DD HH:MM:SS``: events at or after
    it are left out), applied to the server on ``socket_path``. Returns the transactions
    replayed. The replayed events are not written to that server's own binary log."""
    index = data_dir / "mysql-bin.index"
    try:
        names = [Path(line.strip()).name for line in index.read_text().splitlines() if line]
    except OSError as exc:
        raise ExternalSystemError(f"cannot read the binary log index {index}: {exc}") from None
    if first_file not in names:
        raise ExternalSystemError(
            f"the binary log {first_file} the backup starts from is gone from {data_dir}",
            hint="it was purged (binlog_expire_logs_seconds): recover to the backup itself",
        )
    files = [str(data_dir / name) for name in names[names.index(first_file) :]]
    events = run(
        [
            "mariadb-binlog",
            f"--start-position={start_position}",
            f"--stop-datetime={stop_datetime}",
            "--disable-log-bin",
            *files,
        ],
        timeout=3600,
        what="mariadb-binlog",
    )
    run(
        ["mariadb", f"--socket={socket_path}", f"--user={os_user}"],
        input_text=events.stdout,
        timeout=3600,
        what="replaying the binary logs",
    )
    return sum(1 for line in events.stdout.splitlines() if _GTID_EVENT.match(line))


#: mariadb-binlog's line before each transaction: "#261130 17:20:01 server id 1 ... GTID 0-1-5"
_GTID_EVENT = re.compile(r"^#\d{6}\s+\d{1,2}:\d{2}:\d{2}\s.*\sGTID\s\d+-\d+-\d+")
