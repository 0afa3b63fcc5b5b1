"""The adapter to MySQL/MariaDB (PyMySQL, SQLAlchemy, Alembic): the platform's schema, the
smoke test's reads, and the local server's administration. Passwords travel in memory only."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine


@dataclass(frozen=True)
class MigrationResult:
    before: str | None
    after: str | None
    applied: list[str]


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
        connect_args["ssl"] = {"check_hostname": True}
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
    """The platform's database and its user on every loopback host, with this password."""
    import pymysql

    try:
        with _admin(socket_path, os_user) as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{database}` CHARACTER SET utf8mb4")
            for host in ("127.0.0.1", "localhost", "::1"):
                cur.execute(
                    f"CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY %s", (password,)
                )
                cur.execute(f"ALTER USER '{user}'@'{host}' IDENTIFIED BY %s", (password,))
                cur.execute(f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'{host}'")
            conn.commit()
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"mysql: cannot create the platform user: {exc}") from None


def _admin(socket_path: str, os_user: str) -> Any:
    """The OS user's socket-authenticated root connection, used only to set up the platform."""
    import pymysql

    return pymysql.connect(unix_socket=socket_path, user=os_user, connect_timeout=2)


def _first(row: tuple[Any, ...] | None) -> str:
    return str(row[0]) if row else "unknown"
