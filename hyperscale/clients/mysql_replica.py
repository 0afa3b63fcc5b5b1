"""The local read replica's administration (`hyperscale local up mysql-replica`): seed it from a
consistent snapshot of the primary and point it at the primary by GTID.

Both servers are administered over their unix sockets as the OS user (socket authentication),
so no administrator password exists. The replication account's password travels in memory to
the primary (CREATE USER) and to the replica (CHANGE MASTER), never on a command line; MariaDB
itself keeps it in the replica's master.info, inside the private state directory.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.mysql import ReplicationStatus, replication_status
from hyperscale.config.models import Endpoint
from hyperscale.errors import ExternalSystemError
from hyperscale.runner import run

REPLICATION_USER = "hyperscale_repl"
#: Last_IO_Errno when the primary no longer has the binary log the replica needs (purged, or
#: the primary's data directory was made anew): only a new snapshot can fix that.
_BINLOG_GONE = 1236
_GTID_IN_DUMP = re.compile(r"gtid_slave_pos\s*=\s*'([0-9,\-]*)'")


@dataclass(frozen=True)
class ReplicaSetup:
    primary_socket: str
    replica_socket: str
    os_user: str
    #: Where the replica's I/O thread connects: the environment's mysql.writer.
    primary: Endpoint
    database: str
    replication_password: str


def replica_status(socket_path: str, os_user: str) -> ReplicationStatus | None:
    """SHOW SLAVE STATUS of the server on ``socket_path``; None when it replicates nothing."""
    import pymysql

    try:
        with _admin(socket_path, os_user) as conn, conn.cursor(pymysql.cursors.DictCursor) as cur:
            cur.execute("SHOW SLAVE STATUS")
            row = cur.fetchone()
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"replica: cannot read its status: {exc}") from None
    return replication_status(row) if row else None


def ensure_replicating(setup: ReplicaSetup, timeout: float = 20.0) -> str:
    """Make the replica follow the primary; idempotent. Returns what was done, in a few words.

    A replica already following this primary is left as it is (its threads are started if
    someone stopped them). One that follows nothing, another address, or a primary that lost
    the binary log it needs, is seeded again from a fresh snapshot.
    """
    current = replica_status(setup.replica_socket, setup.os_user)
    if current is not None and _follows(current, setup.primary):
        if current.io_running == "Yes" and current.sql_running == "Yes":
            return "replicating"
        _execute(setup.replica_socket, setup.os_user, ["START SLAVE"])
        _wait_replicating(setup, timeout)
        return "replication threads started again"
    position = _seed(setup)
    _wait_replicating(setup, timeout)
    return f"seeded from the primary at GTID {position or '(empty)'}"


def _follows(status: ReplicationStatus, primary: Endpoint) -> bool:
    same_primary = status.source == f"{primary.host}:{primary.port}"
    return same_primary and status.last_io_errno != _BINLOG_GONE


def _seed(setup: ReplicaSetup) -> str:
    """Snapshot the platform's database on the primary, load it into the replica, and start
    replicating from the GTID position the snapshot was taken at."""
    log_bin = _query_one(setup.primary_socket, setup.os_user, "SELECT @@GLOBAL.log_bin")
    if str(log_bin) != "1":
        raise ExternalSystemError(
            "mysql (the primary) runs without a binary log: it was started before the replica"
            " was configured, so there is nothing to replicate from",
            hint="restart it: `hyperscale local down mysql-replica mysql && hyperscale local up`",
        )
    _execute(
        setup.primary_socket,
        setup.os_user,
        [
            "SET SESSION sql_log_bin = 0",
            f"CREATE USER IF NOT EXISTS '{REPLICATION_USER}'@'{setup.primary.host}'"
            " IDENTIFIED BY %s",
            f"ALTER USER '{REPLICATION_USER}'@'{setup.primary.host}' IDENTIFIED BY %s",
            f"GRANT REPLICATION SLAVE ON *.* TO '{REPLICATION_USER}'@'{setup.primary.host}'",
        ],
        secret=setup.replication_password,
    )
    # --single-transaction: a consistent InnoDB snapshot without locking the platform out;
    # --master-data=2 --gtid: the snapshot's GTID position, written as a comment we read back.
    dump = run(
        [
            "mariadb-dump",
            f"--socket={setup.primary_socket}",
            f"--user={setup.os_user}",
            "--single-transaction",
            "--master-data=2",
            "--gtid",
            "--routines",
            "--triggers",
            "--databases",
            setup.database,
        ],
        timeout=600,
        what="mariadb-dump of the primary",
    )
    found = _GTID_IN_DUMP.search(dump.stdout)
    if found is None:
        raise ExternalSystemError("mariadb-dump wrote no GTID position: cannot start the replica")
    position = found.group(1)
    _execute(
        setup.replica_socket,
        setup.os_user,
        ["STOP SLAVE", "RESET SLAVE ALL", f"DROP DATABASE IF EXISTS `{setup.database}`"],
    )
    run(
        ["mariadb", f"--socket={setup.replica_socket}", f"--user={setup.os_user}"],
        input_text=dump.stdout,
        timeout=600,
        what="loading the snapshot into the replica",
    )
    _execute(
        setup.replica_socket,
        setup.os_user,
        [
            f"SET GLOBAL gtid_slave_pos = '{position}'",
            f"CHANGE MASTER TO MASTER_HOST = '{setup.primary.host}',"
            f" MASTER_PORT = {setup.primary.port}, MASTER_USER = '{REPLICATION_USER}',"
            " MASTER_PASSWORD = %s, MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1",
            "START SLAVE",
        ],
        secret=setup.replication_password,
    )
    return position


def _wait_replicating(setup: ReplicaSetup, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    status = replica_status(setup.replica_socket, setup.os_user)
    while time.monotonic() < deadline:
        if status is not None and status.io_running == "Yes" and status.sql_running == "Yes":
            return
        if status is not None and (status.last_io_errno or status.last_sql_errno):
            break
        time.sleep(0.2)
        status = replica_status(setup.replica_socket, setup.os_user)
    reason = "no replication configured"
    if status is not None:
        reason = (
            status.last_io_error
            or status.last_sql_error
            or f"I/O thread {status.io_running}, SQL thread {status.sql_running}"
        )
    raise ExternalSystemError(
        f"replica did not start replicating from {setup.primary}: {reason}",
        hint="see the replica's log (`hyperscale local status` names it)",
    )


def _query_one(socket_path: str, os_user: str, sql: str) -> Any:
    import pymysql

    try:
        with _admin(socket_path, os_user) as conn, conn.cursor() as cur:
            cur.execute(sql)
            row = cur.fetchone()
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"mysql on {socket_path}: {exc}") from None
    return row[0] if row else None


def _execute(socket_path: str, os_user: str, statements: list[str], secret: str = "") -> None:
    """Run each statement; ``%s`` in one is the secret, sent as a bound value."""
    import pymysql

    try:
        with _admin(socket_path, os_user) as conn, conn.cursor() as cur:
            for sql in statements:
                cur.execute(sql, (secret,) if "%s" in sql else None)
            conn.commit()
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"setting up the replica on {socket_path}: {exc}") from None


def _admin(socket_path: str, os_user: str) -> Any:
    import pymysql

    return pymysql.connect(unix_socket=socket_path, user=os_user, connect_timeout=5)


def promote_replica(replica_socket: str, os_user: str, timeout: float = 30.0) -> str:
    """Make the replica the writer: let its SQL thread apply every transaction it received,
    stop following, forget the primary, accept writes. Returns the GTID position it holds."""
    deadline = time.monotonic() + timeout
    while True:
        status = replica_status(replica_socket, os_user)
        applied = str(_query_one(replica_socket, os_user, "SELECT @@GLOBAL.gtid_slave_pos") or "")
        if status is None or status.sql_running != "Yes" or status.gtid_io_pos in ("", applied):
            break
        if time.monotonic() > deadline:
            raise ExternalSystemError(
                f"the replica did not apply what it received within {timeout:g}s"
                f" (received {status.gtid_io_pos}, applied {applied})"
            )
        time.sleep(0.1)
    _execute(
        replica_socket,
        os_user,
        ["STOP SLAVE", "RESET SLAVE ALL", "SET GLOBAL read_only = OFF"],
    )
    return applied


def set_read_only(socket_path: str, os_user: str) -> None:
    """Back to what the replica's configuration says (read_only = ON), after a promotion."""
    _execute(socket_path, os_user, ["SET GLOBAL read_only = ON"])


def enable_semi_sync(setup: ReplicaSetup, timeout_ms: int = 10_000) -> bool:
    """Semi-synchronous replication until the servers restart: the primary acknowledges a
    commit only once the replica has it (``AFTER_SYNC``: before the commit is visible, so a
    crash cannot lose an acknowledged one). After ``timeout_ms`` without the replica the primary
    falls back to asynchronous. True when the primary reports it active."""
    _execute(
        setup.primary_socket,
        setup.os_user,
        [
            "SET GLOBAL rpl_semi_sync_master_wait_point = 'AFTER_SYNC'",
            f"SET GLOBAL rpl_semi_sync_master_timeout = {int(timeout_ms)}",
            "SET GLOBAL rpl_semi_sync_master_enabled = ON",
        ],
    )
    _execute(
        setup.replica_socket,
        setup.os_user,
        [
            "SET GLOBAL rpl_semi_sync_slave_enabled = ON",
            "STOP SLAVE IO_THREAD",
            "START SLAVE IO_THREAD",
        ],
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        import pymysql

        try:
            with _admin(setup.primary_socket, setup.os_user) as conn, conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_status'")
                row = cur.fetchone()
        except pymysql.MySQLError as exc:
            raise ExternalSystemError(f"reading semi-sync status: {exc}") from None
        if row and str(row[1]).upper() == "ON":
            return True
        time.sleep(0.1)
    return False


def disable_semi_sync(replica_socket: str, os_user: str) -> None:
    """The replica back to asynchronous (the primary's setting ends with its restart)."""
    _execute(replica_socket, os_user, ["SET GLOBAL rpl_semi_sync_slave_enabled = OFF"])
