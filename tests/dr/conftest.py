"""A MariaDB of its own for the dr tests: restores in place, scratch servers and retention
touch nothing the rest of the suite uses (its own state directory, ports and backups)."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.clients.mysql import apply_migrations
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from tests.support import free_ports


@dataclass
class DrSite:
    env: Environment
    app: AppContext

    def connect(self, port: int | None = None) -> Any:
        """The platform's user over TCP (what the services do), on the writer or ``port``."""
        import pymysql

        cfg = self.env.mysql
        return pymysql.connect(
            host="127.0.0.1",
            port=port or cfg.writer.port,
            user=cfg.user,
            password=resolve_secret(self.app, cfg.password),
            database=cfg.database,
            autocommit=True,
        )


def seed_orders(site: DrSite, count: int, customer: str) -> None:
    """``count`` orders in one statement (MariaDB's sequence engine makes the rows)."""
    with site.connect() as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO orders (order_id, customer_id, status, total_cents, currency, created_at)"
            f" SELECT UUID(), %s, 'placed', seq * 7, 'EUR', NOW() FROM seq_1_to_{int(count)}",
            (customer,),
        )


def _site(root: Path, *, replica: bool) -> DrSite:
    """The local environment on free ports with its state under ``root``; the reader is the
    writer (no replica) unless ``replica``."""
    active = AppContext.from_os()
    environments = root / "environments"
    shutil.copytree(active.environments_dir, environments)
    local = environments / "local.yaml"
    document = yaml.safe_load(local.read_text())
    writer, reader = free_ports(2)
    document["mysql"]["writer"] = f"127.0.0.1:{writer}"
    document["mysql"]["reader"] = f"127.0.0.1:{reader if replica else writer}"
    local.write_text(yaml.safe_dump(document))
    app = AppContext(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        state_dir=root / "state",
        cache_dir=active.cache_dir,
        environments_dir=environments,
        environ=dict(active.environ),
    )
    return DrSite(load_environment(app, "local"), app)


@contextmanager
def _running(site: DrSite, services: list[str]) -> Iterator[DrSite]:
    result = core.up(site.env, site.app, services)
    failed = [s for s in result.services if not s.state.healthy]
    if failed:
        pytest.fail(f"dr MariaDB did not start: {failed[0].detail}", pytrace=False)
    apply_migrations(site.env, site.app, site.app.services_dir / "schema" / "migrations")
    try:
        yield site
    finally:
        from hyperscale.dr.restore import discard

        discard(site.env, site.app)
        core.down(site.env, site.app, [s.name for s in result.services])


@pytest.fixture(scope="module")
def dr_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrSite]:
    """A primary without replica (reader = writer) on free ports, the platform schema applied."""
    with _running(_site(tmp_path_factory.mktemp("dr"), replica=False), ["mysql"]) as site:
        yield site


@pytest.fixture(scope="module")
def dr_replicated_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DrSite]:
    """A primary and its replica of their own, the platform schema applied (and replicated)."""
    root = tmp_path_factory.mktemp("dr-replicated")
    with _running(_site(root, replica=True), ["mysql", "mysql-replica"]) as site:
        yield site


@pytest.fixture(scope="session")
def dr_kafka(shared_app: AppContext) -> Iterator[Environment]:
    """The `dr` environment's three Kafka nodes, started like `hyperscale local up kafka --env
    dr`; left running afterwards when they were already running (or HYPERSCALE_KEEP_SERVICES)."""
    import os

    from hyperscale.local.results import ServiceState

    env = load_environment(shared_app, "dr")
    result = core.up(env, shared_app, ["kafka"])
    failed = [s for s in result.services if not s.state.healthy]
    if failed:
        pytest.fail(f"dr Kafka did not start: {failed[0].detail}", pytrace=False)
    yield env
    started = [s.name for s in result.services if s.state is not ServiceState.REUSED]
    if started and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        core.down(env, shared_app, started)
