"""`hyperscale metrics db` on the real local MariaDB primary and its real replica, through the
CLI; the RDS figures from moto."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import uuid
from typing import Any

import pytest
import yaml

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import CliOutcome, invoke, moto_client, replica_admin
from tests.support import free_port, wait_for

pytestmark = pytest.mark.mysql


def _platform(env: Environment, app: AppContext, endpoint: Endpoint) -> Any:
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


def _metrics(app: AppContext, *args: str) -> tuple[CliOutcome, dict[str, Any]]:
    outcome = invoke(
        app, "metrics", "db", "--env", "local", "--interval", "0.3s", "-o", "json", *args
    )
    document = json.loads(outcome.stdout)
    assert document["exit_code"] == outcome.exit_code
    return outcome, document["data"]


def test_a_stopped_replica_is_reported_behind_and_fails_then_recovers(
    local_services: Environment, shared_app: AppContext, stopped_sql_thread: None
) -> None:
    env, app = local_services, shared_app
    table = f"t_lag_{uuid.uuid4().hex[:8]}"
    with _platform(env, app, env.mysql.writer) as conn, conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY)")
        for i in range(3):
            cur.execute(f"INSERT INTO {table} VALUES (%s)", (i,))

    outcome, data = _metrics(app)
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    replication = data["servers"]["reader"]["replication"]
    assert (replication["io_running"], replication["sql_running"]) == ("Yes", "No")
    assert replication["seconds_behind"] is None  # the server knows no seconds while stopped
    assert replication["transactions_behind"] >= 4  # CREATE TABLE and three INSERTs
    assert {"replication threads", "replication lag"} <= set(data["breached"])
    assert data["servers"]["writer"]["replication"] is None

    with replica_admin(env, app) as conn:
        conn.cursor().execute("START SLAVE SQL_THREAD")

    def caught_up() -> dict[str, Any] | None:
        outcome, data = _metrics(app)
        return data if outcome.exit_code == ExitCode.OK else None

    data = wait_for(caught_up, 30, "the replica to catch up")
    replication = data["servers"]["reader"]["replication"]
    assert (replication["sql_running"], replication["seconds_behind"]) == ("Yes", 0)
    assert replication["transactions_behind"] == 0
    with _platform(env, app, env.mysql.writer) as conn:
        conn.cursor().execute(f"DROP TABLE {table}")


def test_rates_and_counts_follow_what_happens_during_the_interval(
    local_services: Environment, shared_app: AppContext
) -> None:
    """Queries during the interval raise queries per second; a slow query (long_query_time 0
    for that session) counts and breaches --max-slow-queries 0; open connections count."""
    env, app = local_services, shared_app
    held = [_platform(env, app, env.mysql.writer) for _ in range(3)]
    stop = threading.Event()

    def busy() -> None:
        with _platform(env, app, env.mysql.writer) as conn, conn.cursor() as cur:
            cur.execute("SET SESSION long_query_time = 0")
            while not stop.is_set():
                cur.execute("SELECT COUNT(*) FROM information_schema.tables")
                time.sleep(0.002)

    worker = threading.Thread(target=busy)
    worker.start()
    try:
        outcome, data = _metrics(app, "--max-slow-queries", "0")
    finally:
        stop.set()
        worker.join(10)
        for conn in held:
            conn.close()
    writer = data["servers"]["writer"]
    assert writer["queries_per_second"] > 20
    assert writer["slow_queries"] > 0
    assert writer["connections"] >= 5  # three held, the busy one, and the sampler's
    assert writer["connections_high_water"] >= writer["connections"]
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    assert data["breached"] == ["slow queries"]


def test_connections_over_the_share_of_max_connections_fail(
    local_services: Environment, shared_app: AppContext
) -> None:
    outcome, data = _metrics(shared_app, "--max-connections-pct", "0")
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    assert set(data["breached"]) == {"connections"}


def test_an_unreachable_database_is_one_line_and_exit_3(isolated_app: AppContext) -> None:
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    port = free_port()
    data["mysql"].update(writer=f"127.0.0.1:{port}", reader=f"127.0.0.1:{free_port()}")
    path.write_text(yaml.safe_dump(data))
    secrets = isolated_app.state_dir / "secrets"
    secrets.mkdir(parents=True)
    (secrets / "mysql-password").write_text("not-used")
    outcome = invoke(isolated_app, "metrics", "db", "--interval", "0s")
    assert outcome.exit_code == ExitCode.EXTERNAL
    assert outcome.stderr.startswith(f"error: cannot connect to MySQL at 127.0.0.1:{port} (writer)")
    assert len(outcome.stderr.strip().splitlines()) == 1
    assert "Traceback" not in outcome.stderr


def test_a_bad_interval_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "metrics", "db", "--interval", "soon")
    assert outcome.exit_code == ExitCode.USAGE
    assert "--interval 'soon' is not a duration" in outcome.stderr


@pytest.mark.aws
def test_rds_figures_come_from_cloudwatch_and_a_lagging_replica_fails(
    local_services: Environment, shared_app: AppContext
) -> None:
    """The environment's instances (hyperscale-local and its -replica-1, as Terraform names
    them) found through RDS in moto, their latest CloudWatch figures read and judged."""
    rds = moto_client(local_services, "rds")
    primary, replica = "hyperscale-local", "hyperscale-local-replica-1"
    existing = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    if primary not in existing:
        rds.create_db_instance(
            DBInstanceIdentifier=primary, DBInstanceClass="db.r6g.large", Engine="mysql",
            AllocatedStorage=100, MasterUsername="admin", MasterUserPassword="moto-only-pw",
        )  # fmt: skip
    if replica not in existing:
        rds.create_db_instance_read_replica(
            DBInstanceIdentifier=replica, SourceDBInstanceIdentifier=primary
        )
    now = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
    figures = {
        primary: {"DatabaseConnections": 42, "FreeableMemory": 2 * 1024**3,
                  "FreeStorageSpace": 5 * 1024**3, "CPUUtilization": 37},
        replica: {"DatabaseConnections": 7, "ReplicaLag": 45, "FreeableMemory": 1024**3,
                  "FreeStorageSpace": 60 * 1024**3, "CPUUtilization": 12},
    }  # fmt: skip
    cloudwatch = moto_client(local_services, "cloudwatch")
    for instance, metrics in figures.items():
        cloudwatch.put_metric_data(
            Namespace="AWS/RDS",
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": instance}],
                    "Timestamp": now,
                    "Value": value,
                }
                for name, value in metrics.items()
            ],
        )
    outcome, data = _metrics(shared_app, "--rds")
    found = {r["instance"]: r for r in data["rds"]}
    assert found[primary]["role"] == "primary"
    assert found[primary]["connections"] == 42
    assert found[primary]["free_storage_pct"] == 5.0  # 5 GiB of 100
    assert found[replica]["replica_lag_s"] == 45
    assert outcome.exit_code == ExitCode.CHECK_FAILED
    assert set(data["breached"]) == {"RDS replica lag", "RDS free storage"}
