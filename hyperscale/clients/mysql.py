"""The adapter to MySQL/MariaDB (PyMySQL, SQLAlchemy, Alembic): the platform's schema, the
smoke test's reads, and the local server's administration. Passwords travel in memory only."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment, MySQL
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError, ExternalSystemError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str | None
    applied: list[str]


def tls_context(cfg: MySQL) -> ssl.SSLContext:
    """A verifying TLS context: chain and host name (issue 19 item 4).

    PyMySQL given ``{"check_hostname": True}`` without a CA turns verification off (its
    ``verify_mode`` becomes CERT_NONE when no CA is named), so a man in the middle could take
    the login. An SSLContext is used as it is: CERT_REQUIRED, the host name checked, trusting
    ``mysql.ca_file`` (the RDS bundle) or else the system's store.
    """
    try:
        context = ssl.create_default_context(cafile=cfg.ca_file or None)
    except OSError as exc:
        raise ConfigError(
            f"mysql.ca_file: cannot read {cfg.ca_file} ({exc.strerror or exc})",
            hint="point it at the RDS CA bundle (global-bundle.pem) or remove it",
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def writer_engine(env: Environment, app: AppContext) -> Engine:
    """An engine on the writer endpoint; the password travels in memory only."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import URL

    cfg = env.mysql
    url = URL.create(
        "mysql+pymysql",
        username=cfg.user,
        password=resolve_secret(app, cfg.password, env.aws),
        host=cfg.writer.host,
        port=cfg.writer.port,
        database=cfg.database,
        query={"charset": "utf8mb4"},
    )
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    if cfg.tls:
        connect_args["ssl"] = tls_context(cfg)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def apply_migrations(env: Environment, app: AppContext, migrations: Path) -> MigrationResult:
    """``alembic upgrade head`` from ``migrations``; a second run applies nothing."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.exc import SQLAlchemyError

    config = Config()
    config.set_main_option("script_location", str(migrations))
    script = ScriptDirectory.from_config(config)
    engine = writer_engine(env, app)
    try:
        with engine.begin() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
            after = MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise ExternalSystemError(
            f"applying the schema to {env.mysql.writer} failed: {cause}",
            hint="is MySQL up? `hyperscale local status`",
        ) from None
    finally:
        engine.dispose()
    applied = [
        rev.revision
        for rev in reversed(list(script.walk_revisions(base="base", head=after or "base")))
        if after and rev.revision != before and not _is_ancestor(script, rev.revision, before)
    ]
    return MigrationResult(before, after, applied)


def _is_ancestor(script: Any, revision: str, of: str | None) -> bool:
    if of is None:
        return False
    return revision in {r.revision for r in script.walk_revisions(base="base", head=of)}


class PlatformDatabase:
    """Read-only questions about the platform's tables (what the smoke test checks)."""

    def __init__(self, engine: Engine, where: Endpoint) -> None:
        self._engine = engine
        self._where = where

    def orders_found(self, order_ids: Sequence[str]) -> int:
        from sqlalchemy import bindparam, text

        query = text("SELECT COUNT(*) FROM orders WHERE order_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        with self._reading() as conn:
            return int(conn.execute(query, {"ids": list(order_ids) or ["-"]}).scalar_one())

    def campaign_counters(self, campaign: str) -> tuple[int, int, int, int] | None:
        """(impressions, clicks, conversions, conversion value in cents), or None."""
        from sqlalchemy import text

        query = text(
            "SELECT impressions, clicks, conversions, conversion_value_cents"
            " FROM campaign_stats WHERE campaign_id = :campaign"
        )
        with self._reading() as conn:
            row = conn.execute(query, {"campaign": campaign}).first()
        return (int(row[0]), int(row[1]), int(row[2]), int(row[3])) if row else None

    def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        from sqlalchemy import text

        with self._reading() as conn:
            return {
                table: int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())  # noqa: S608 - the caller's fixed names
                for table in tables
            }

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Any]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise ExternalSystemError(f"reading MySQL at {self._where} failed: {exc}") from None


@contextlib.contextmanager
def platform_database(env: Environment, app: AppContext) -> Iterator[PlatformDatabase]:
    engine = writer_engine(env, app)
    try:
        yield PlatformDatabase(engine, env.mysql.writer)
    finally:
        engine.dispose()


# -- the local MariaDB server's administration (`hyperscale local up`) -------------------------


def socket_server_version(socket_path: str, os_user: str) -> str:
    """The server's version over its unix socket, as the OS user (socket authentication)."""
    import pymysql

    # PyMySQL leaks its socket when a unix-socket connect fails (it is not yet stored on the
    # connection when the error is handled), so first see the server accept on our own.
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1)
            probe.connect(socket_path)
    except OSError as exc:
        raise ExternalSystemError(f"not accepting on {socket_path} yet: {exc}") from None
    try:
        with _admin(socket_path, os_user) as conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            return _first(cur.fetchone())
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(str(exc)) from None


def server_version(endpoint: Endpoint, user: str, password: str, database: str) -> str:
    """The server's version, logged in over TCP as the platform's user: what the services do."""
    import pymysql

    try:
        with (
            pymysql.connect(
                host=endpoint.host,
                port=endpoint.port,
                user=user,
                password=password,
                database=database,
                connect_timeout=2,
                read_timeout=5,
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute("SELECT VERSION()")
            return _first(cur.fetchone())
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(str(exc)) from None


def ensure_platform_user(
    socket_path: str, os_user: str, database: str, user: str, password: str
) -> None:
    """The platform's database and its user on every loopback host, with this password.

    Account statements stay out of the binary log: each server (the primary and the local
    replica) has its own accounts, and the replica replicates only the platform's data."""
    import pymysql

    try:
        with _admin(socket_path, os_user) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4")
            for host in ("127.0.0.1", "localhost", "::1"):
                cur.execute(
                    f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY %s", (password,)
                )
                cur.execute(f"ALTER USER '{user}'@'{host}' IDENTIFIED BY %s", (password,))
                cur.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'{host}'")
                # `metrics db` reads SHOW SLAVE STATUS as this user; it grants no data access.
                cur.execute(f"GRANT SLAVE MONITOR ON *.* TO '{user}'@'{host}'")
            conn.commit()
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"mysql: cannot create the platform user: {exc}") from None


def _admin(socket_path: str, os_user: str) -> Any:
    """The OS user's socket-authenticated root connection, used only to set up the platform."""
    import pymysql

    return pymysql.connect(unix_socket=socket_path, user=os_user, connect_timeout=2)


def _first(row: tuple[Any, ...] | None) -> str:
    return str(row[0]) if row else "unknown"


# -- what an SRE reads from a server (`hyperscale metrics db`) ---------------------------------

#: The server variables a monitoring sample keeps (SHOW GLOBAL VARIABLES is hundreds of rows).
_SAMPLED_VARIABLES = ("max_connections", "read_only", "version", "log_bin", "server_id")


@dataclass(frozen=True)
class ReplicationStatus:
    """One row of SHOW SLAVE STATUS, the fields an operator acts on."""

    source: str
    #: Yes, No, or Connecting (MariaDB's words)
    io_running: str
    sql_running: str
    #: None while the SQL thread is stopped or the I/O thread is not connected (the server's rule).
    seconds_behind: int | None
    io_state: str
    sql_state: str
    last_io_errno: int
    last_io_error: str
    last_sql_errno: int
    last_sql_error: str
    using_gtid: str
    gtid_io_pos: str


@dataclass(frozen=True)
class ServerSample:
    """Counters and gauges of one server at one moment."""

    #: time.monotonic() when the status was read: rates divide by the gap between two samples.
    taken_at: float
    #: SHOW GLOBAL STATUS, the numeric ones, by lower-case name.
    status: dict[str, int]
    variables: dict[str, str]
    #: None when the server replicates from nothing.
    replication: ReplicationStatus | None
    #: Why replication could not be read (a privilege missing), else None.
    replication_error: str | None
    #: The GTIDs this server has written (a primary) and applied (a replica).
    gtid_binlog_pos: str
    gtid_slave_pos: str


class MonitorConnection:
    """A connection that reads status, never data; opened once, sampled several times."""

    def __init__(self, conn: Any, where: str) -> None:
        self._conn = conn
        self.where = where

    def sample(self) -> ServerSample:
        import time

        import pymysql

        try:
            with self._conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS")
                taken_at = time.monotonic()
                status = {
                    str(name).lower(): int(value)
                    for name, value in cur.fetchall()
                    if isinstance(value, str | int) and str(value).lstrip("-").isdigit()
                }
                names = ", ".join(f"'{n}'" for n in _SAMPLED_VARIABLES)
                cur.execute(f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({names})")
                variables = {str(k).lower(): str(v) for k, v in cur.fetchall()}
                row = self._gtid_positions(cur)
                replication, replication_error = self._replication(cur)
        except pymysql.MySQLError as exc:
            raise ExternalSystemError(
                f"reading status from MySQL at {self.where} failed: {_mysql_reason(exc)}"
            ) from None
        binlog_pos, slave_pos = (str(value or "") for value in row)
        return ServerSample(
            taken_at, status, variables, replication, replication_error, binlog_pos, slave_pos
        )

    @staticmethod
    def _gtid_positions(cur: Any) -> tuple[Any, ...]:
        """MariaDB's GTID positions; MySQL (RDS) has other variables: then none."""
        import pymysql

        try:
            cur.execute("SELECT @@GLOBAL.gtid_binlog_pos, @@GLOBAL.gtid_slave_pos")
        except pymysql.err.OperationalError:
            return ("", "")
        return tuple(cur.fetchone() or ("", ""))

    @staticmethod
    def _replication(cur: Any) -> tuple[ReplicationStatus | None, str | None]:
        import pymysql

        try:
            cur.execute("SHOW SLAVE STATUS")
        except pymysql.err.OperationalError as exc:
            # 1227: access denied; a missing SLAVE MONITOR (REPLICATION CLIENT) privilege.
            if exc.args and exc.args[0] == _ACCESS_DENIED:
                return None, f"cannot read replication: {exc.args[1]}"
            raise
        columns = [d[0] for d in cur.description or []]
        row = cur.fetchone()
        if row is None:
            return None, None
        return replication_status(dict(zip(columns, row, strict=True))), None


_ACCESS_DENIED = 1227


def replication_status(row: dict[str, Any]) -> ReplicationStatus:
    """A SHOW SLAVE STATUS row (column name -> value) as a ReplicationStatus; MySQL 8.4's
    SHOW REPLICA STATUS names (Source_*, Replica_*) are read too."""

    def get(*names: str) -> Any:
        return next((row[n] for n in names if row.get(n) is not None), None)

    behind = get("Seconds_Behind_Master", "Seconds_Behind_Source")
    host, port = get("Master_Host", "Source_Host") or "", get("Master_Port", "Source_Port") or ""
    return ReplicationStatus(
        source=f"{host}:{port}",
        io_running=str(get("Slave_IO_Running", "Replica_IO_Running") or "No"),
        sql_running=str(get("Slave_SQL_Running", "Replica_SQL_Running") or "No"),
        seconds_behind=None if behind is None else int(behind),
        io_state=str(get("Slave_IO_State", "Replica_IO_State") or ""),
        sql_state=str(get("Slave_SQL_Running_State", "Replica_SQL_Running_State") or ""),
        last_io_errno=int(row.get("Last_IO_Errno") or 0),
        last_io_error=str(row.get("Last_IO_Error") or ""),
        last_sql_errno=int(row.get("Last_SQL_Errno") or 0),
        last_sql_error=str(row.get("Last_SQL_Error") or ""),
        using_gtid=str(row.get("Using_Gtid") or "No"),
        gtid_io_pos=str(row.get("Gtid_IO_Pos") or ""),
    )


@contextlib.contextmanager
def monitor_connection(env: Environment, app: AppContext, role: str) -> Iterator[MonitorConnection]:
    """A status-reading connection to the environment's ``writer`` or ``reader`` endpoint as the
    platform's user. An unreachable server is an ExternalSystemError naming the endpoint."""
    import pymysql

    cfg = env.mysql
    endpoint = cfg.writer if role == "writer" else cfg.reader
    where = f"{endpoint} ({role})"
    password = resolve_secret(app, cfg.password, env.aws)
    try:
        conn = pymysql.connect(
            host=endpoint.host,
            port=endpoint.port,
            user=cfg.user,
            password=password,
            database=cfg.database,
            connect_timeout=5,
            read_timeout=10,
            ssl=tls_context(cfg) if cfg.tls else None,
        )
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(
            f"cannot connect to MySQL at {where}: {_mysql_reason(exc)}",
            hint="is the server up? (`hyperscale local status` on the local target)",
        ) from None
    try:
        yield MonitorConnection(conn, where)
    finally:
        conn.close()


def _mysql_reason(exc: Exception) -> str:
    """PyMySQL's (code, message) as the message alone."""
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    return str(args[-1]) if args else str(exc)
