"""The local read replica: a second MariaDB that `local up` seeds from the primary and keeps
replicating, so the environment's mysql.reader is a real replica."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.loader import load_environment
from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.support import free_ports, wait_for

pytestmark = pytest.mark.mysql


def _connect(env: Environment, app: AppContext, endpoint: Endpoint) -> Any:
    import pymysql

    cfg = env.mysql
    return pymysql.connect(
        host=endpoint.host,
        port=endpoint.port,
        user=cfg.user,
        password=resolve_secret(app, cfg.password),
        database=cfg.database,
        autocommit=True,
    )


def _write(env: Environment, app: AppContext, table: str, value: str) -> None:
    with _connect(env, app, env.mysql.writer) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {table} (v VARCHAR(64) PRIMARY KEY)")
        cur.execute(f"INSERT INTO {table} VALUES (%s)", (value,))


def _on_reader(env: Environment, app: AppContext, table: str) -> set[str]:
    import pymysql

    try:
        with _connect(env, app, env.mysql.reader) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT v FROM {table}")
            return {row[0] for row in cur.fetchall()}
    except pymysql.err.ProgrammingError:  # the table has not arrived yet
        return set()


def _services(stdout: str) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in json.loads(stdout)["data"]["services"]}


def test_what_the_primary_commits_the_reader_serves(
    local_services: Environment, shared_app: AppContext
) -> None:
    table = f"t_replica_{uuid.uuid4().hex[:8]}"
    _write(local_services, shared_app, table, "first")
    assert wait_for(lambda: _on_reader(local_services, shared_app, table), 10, "the row")
    with _connect(local_services, shared_app, local_services.mysql.writer) as conn:
        conn.cursor().execute(f"DROP TABLE {table}")


def test_the_platform_user_cannot_write_to_the_reader(
    local_services: Environment, shared_app: AppContext
) -> None:
    import pymysql

    with (
        _connect(local_services, shared_app, local_services.mysql.reader) as conn,
        conn.cursor() as cur,
        pytest.raises(pymysql.err.OperationalError, match="read-only"),
    ):
        cur.execute("CREATE TABLE t_never (id INT)")


@pytest.fixture
def private_pair(isolated_app: AppContext) -> Iterator[AppContext]:
    """A primary and a replica of their own (free ports, own state directory)."""
    writer, reader = free_ports(2)
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["mysql"].update(writer=f"127.0.0.1:{writer}", reader=f"127.0.0.1:{reader}")
    path.write_text(yaml.safe_dump(data))
    yield isolated_app
    invoke(isolated_app, "local", "down", "mysql-replica", "mysql")


def test_a_new_replica_gets_earlier_data_and_resumes_after_a_restart(
    private_pair: AppContext,
) -> None:
    """Data written before the replica existed arrives through the snapshot; what is written
    while the replica is down arrives after it starts again (its GTID position), and `local up`
    on a running pair changes nothing."""
    app = private_pair
    assert invoke(app, "local", "up", "mysql").exit_code == 0
    env = load_environment(app, "local")
    _write(env, app, "t_before", "before the replica")

    first = invoke(app, "local", "up", "mysql-replica", "-o", "json")
    assert first.exit_code == 0, first.stdout
    states = {n: s["state"] for n, s in _services(first.stdout).items()}
    assert states == {"mysql": "reused", "mysql-replica": "started"}
    assert _on_reader(env, app, "t_before") == {"before the replica"}

    again = invoke(app, "local", "up", "mysql-replica", "-o", "json")
    assert _services(again.stdout)["mysql-replica"]["state"] == "reused"
    assert (
        _services(again.stdout)["mysql-replica"]["pid"]
        == (_services(first.stdout)["mysql-replica"]["pid"])
    )

    assert invoke(app, "local", "down", "mysql-replica").exit_code == 0
    _write(env, app, "t_before", "while the replica was down")
    assert invoke(app, "local", "up", "mysql-replica").exit_code == 0
    wait_for(lambda: len(_on_reader(env, app, "t_before")) == 2, 15, "the missed row")

    status = invoke(app, "local", "status", "mysql-replica", "-o", "json")
    assert status.exit_code == 0
    detail = _services(status.stdout)["mysql-replica"]["detail"]
    assert f"from {env.mysql.writer}: I/O Yes, SQL Yes" in detail


def test_an_environment_without_a_replica_has_no_such_service(isolated_app: AppContext) -> None:
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["mysql"]["reader"] = data["mysql"]["writer"]
    path.write_text(yaml.safe_dump(data))
    outcome = invoke(isolated_app, "local", "up", "mysql-replica")
    assert outcome.exit_code == ExitCode.USAGE
    assert "has no replica: its mysql.reader is its mysql.writer" in outcome.stderr
    status = invoke(isolated_app, "local", "status", "-o", "json")
    assert "mysql-replica" not in _services(status.stdout)
