"""The MySQL schema, applied with Alembic from services/schema/migrations."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hyperscale.config.models import Environment
from hyperscale.config.secrets import resolve_secret
from hyperscale.context import PROJECT_ROOT, AppContext
from hyperscale.errors import ExternalSystemError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

MIGRATIONS = PROJECT_ROOT / "services" / "schema" / "migrations"


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


def apply_migrations(
    env: Environment, app: AppContext, migrations: Path = MIGRATIONS
) -> MigrationResult:
    """``alembic upgrade head``; a second run applies nothing."""
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
