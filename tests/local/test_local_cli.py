"""`hyperscale local up|down|status` on an isolated state directory and ports (real Redis/SMTP)."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.support import free_port, wait_for


@pytest.fixture
def private_app(isolated_app: AppContext) -> Iterator[AppContext]:
    """The local environment moved to free ports, so these tests never touch shared services."""
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["redis"]["endpoint"] = f"127.0.0.1:{free_port()}"
    data["reports"]["email"]["smtp"]["endpoint"] = f"127.0.0.1:{free_port()}"
    path.write_text(yaml.safe_dump(data))
    yield isolated_app
    invoke(isolated_app, "local", "down")


def _services(outcome_stdout: str) -> dict[str, dict[str, object]]:
    doc = json.loads(outcome_stdout)
    return {s["name"]: s for s in doc["data"]["services"]}


@pytest.mark.redis
@pytest.mark.smtp
def test_up_is_idempotent_and_status_reports_each_service(private_app: AppContext) -> None:
    first = invoke(private_app, "local", "up", "redis", "smtp", "-o", "json")
    assert first.exit_code == 0, first.stderr
    assert {n: s["state"] for n, s in _services(first.stdout).items()} == {
        "redis": "started",
        "smtp": "started",
    }
    second = invoke(private_app, "local", "up", "redis", "smtp", "-o", "json")
    services = _services(second.stdout)
    assert {n: s["state"] for n, s in services.items()} == {"redis": "reused", "smtp": "reused"}
    assert services["redis"]["pid"] == _services(first.stdout)["redis"]["pid"]

    status = invoke(private_app, "local", "status", "redis", "smtp", "-o", "json")
    assert status.exit_code == 0
    redis = _services(status.stdout)["redis"]
    assert redis["answers"] is True
    assert str(redis["detail"]).startswith("redis ")
    assert redis["address"].startswith("127.0.0.1:")


@pytest.mark.redis
def test_status_of_a_stopped_service_exits_1(private_app: AppContext) -> None:
    invoke(private_app, "local", "up", "redis")
    down = invoke(private_app, "local", "down", "redis", "-o", "json")
    assert json.loads(down.stdout)["data"]["services"] == [{"name": "redis", "stopped": True}]
    status = invoke(private_app, "local", "status", "redis")
    assert status.exit_code == ExitCode.CHECK_FAILED
    assert "stopped" in status.stdout


@pytest.mark.redis
def test_a_stale_pid_file_is_cleaned_and_the_service_started(private_app: AppContext) -> None:
    run_dir = private_app.state_dir / "run"
    run_dir.mkdir(parents=True)
    (run_dir / "redis.pid").write_text(json.dumps({"pid": 2**22 - 3, "create_time": 1.0}))
    outcome = invoke(private_app, "local", "up", "redis", "-o", "json")
    assert outcome.exit_code == 0
    redis = _services(outcome.stdout)["redis"]
    assert (redis["state"], redis["stale_pid_cleaned"]) == ("started", True)
    status = invoke(private_app, "local", "status", "redis", "-o", "json")
    assert _services(status.stdout)["redis"]["managed"] is True


@pytest.mark.redis
def test_a_port_taken_by_another_process_is_a_clear_error(private_app: AppContext) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        path = private_app.environments_dir / "local.yaml"
        data = yaml.safe_load(path.read_text())
        data["redis"]["endpoint"] = f"127.0.0.1:{port}"
        path.write_text(yaml.safe_dump(data))
        outcome = invoke(private_app, "local", "up", "redis", "-o", "json")
    assert outcome.exit_code == ExitCode.EXTERNAL
    redis = _services(outcome.stdout)["redis"]
    assert redis["state"] == "failed"
    assert f"port {port} is in use by a process that hyperscale did not start" in redis["detail"]


def test_unknown_service_is_a_usage_error(private_app: AppContext) -> None:
    outcome = invoke(private_app, "local", "up", "postgres")
    assert outcome.exit_code == ExitCode.USAGE
    assert (
        "unknown service postgres"
        " (choose from kafka, kafka-2, kafka-3, mysql, mysql-replica, redis, aws, smtp, registry)"
        in outcome.stderr
    )


def test_local_commands_refuse_a_kubernetes_environment(private_app: AppContext) -> None:
    outcome = invoke(private_app, "local", "status", "--env", "staging")
    assert outcome.exit_code == ExitCode.USAGE
    assert "environment 'staging' targets kubernetes" in outcome.stderr


@pytest.mark.redis
def test_a_service_that_dies_at_start_shows_its_log(private_app: AppContext) -> None:
    aof = private_app.state_dir / "services" / "redis" / "data" / "appendonlydir"
    aof.mkdir(parents=True)
    (aof / "appendonly.aof.manifest").write_text("this is not a manifest\n")  # corrupt data
    outcome = invoke(private_app, "local", "up", "redis", "-o", "json")
    redis = _services(outcome.stdout)["redis"]
    assert outcome.exit_code == ExitCode.EXTERNAL
    assert redis["state"] == "failed"
    assert redis["detail"].startswith("redis exited during start-up; see ")
    assert any("manifest" in line.lower() for line in redis["log_tail"]), redis["log_tail"]


@pytest.mark.redis
def test_redis_auth_token_is_enforced_and_never_written_in_clear(private_app: AppContext) -> None:
    import redis

    path = private_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["redis"]["auth_token"] = {"generated": "redis-token"}
    path.write_text(yaml.safe_dump(data))
    outcome = invoke(private_app, "local", "up", "redis", "-o", "json")
    assert outcome.exit_code == 0, outcome.stdout

    token = (private_app.state_dir / "secrets" / "redis-token").read_text()
    host, port = data["redis"]["endpoint"].split(":")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(host=host, port=int(port)).ping()
    assert redis.Redis(host=host, port=int(port), password=token).ping()
    _assert_secret_nowhere(private_app, token, "redis")


@pytest.mark.mysql
def test_the_platform_password_stays_out_of_files_argv_environment_and_logs(
    local_services: Environment, shared_app: AppContext
) -> None:
    assert local_services.mysql.password.generated
    password = resolve_secret(shared_app, local_services.mysql.password)
    _assert_secret_nowhere(shared_app, password, "mysql")


def _assert_secret_nowhere(app: AppContext, secret: str, service: str) -> None:
    """Not in any rendered file or log, nor in the service's command line or environment."""
    files = [
        path
        for path in [
            *(app.state_dir / "services" / service).glob("*"),
            *(app.state_dir / "logs").glob("*"),
        ]
        if path.is_file()
    ]
    assert (app.state_dir / "logs" / f"{service}.log") in files  # the search saw the log
    assert any(p.parent.name == service for p in files)  # ... and the service's own files
    for path in files:
        assert secret.encode() not in path.read_bytes(), path
    pid = json.loads((app.state_dir / "run" / f"{service}.pid").read_text())["pid"]
    proc = psutil.Process(pid)
    assert secret not in " ".join(proc.cmdline())
    assert secret not in " ".join(f"{k}={v}" for k, v in proc.environ().items())


@pytest.mark.mysql
def test_mariadb_starts_from_nothing(private_app: AppContext) -> None:
    """A cold start: a new data directory, the platform database and user, a real login."""
    import pymysql

    path = private_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    port = free_port()
    data["mysql"]["writer"] = data["mysql"]["reader"] = f"127.0.0.1:{port}"
    path.write_text(yaml.safe_dump(data))
    outcome = invoke(private_app, "local", "up", "mysql", "-o", "json")
    assert outcome.exit_code == 0, outcome.stdout
    assert _services(outcome.stdout)["mysql"]["state"] == "started"
    password = (private_app.state_dir / "secrets" / "mysql-password").read_text()
    with (
        pymysql.connect(
            host="127.0.0.1", port=port, user="hyperscale", password=password, database="hyperscale"
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute("SELECT DATABASE(), CURRENT_USER()")
        assert cur.fetchone() == ("hyperscale", "hyperscale@127.0.0.1")


def test_install_names_what_each_service_needs(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "local", "install", "-o", "json")
    assert outcome.exit_code == 0, outcome.stderr
    services = {s["name"]: s["paths"] for s in json.loads(outcome.stdout)["data"]["services"]}
    assert set(services) == {"kafka", "mysql", "mysql-replica", "redis", "aws", "smtp", "registry"}
    jars = Path(services["kafka"]["jars"])
    assert any(jars.glob("kafka_2.13-*.jar")), f"the broker's jar is not in {jars}"
    assert all(Path(p["home"]).parent.parent == isolated_app.state_dir for p in services.values())


_STOP_PROBE = """\
import signal, socket, sys, time
from pathlib import Path

report, port = Path(sys.argv[1]), int(sys.argv[2])


def on_term(*_):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        answered = True
    except OSError:
        answered = False
    report.write_text(f"redis answered when the program was stopped: {answered}")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
print("up", flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.redis
def test_down_stops_the_platform_programs_before_the_backing_services(
    private_app: AppContext, tmp_path: Path
) -> None:
    """A program under the platform's supervisord notes, as it is stopped, whether Redis still
    answers: `local down` must stop it while its services are still there."""
    from hyperscale.config.loader import load_environment
    from hyperscale.targets.local import LocalTarget, Program

    assert invoke(private_app, "local", "up", "redis").exit_code == 0
    env = load_environment(private_app, "local")
    script, report = tmp_path / "probe.py", tmp_path / "report.txt"
    script.write_text(_STOP_PROBE)
    target = LocalTarget(env, private_app)
    target.write_config(
        [
            Program(
                name="probe",
                command=[sys.executable, str(script), str(report), str(env.redis.endpoint.port)],
                environment={"PATH": os.defpath},
                address="-",
                ready_url="-",
                directory=str(tmp_path),
            )
        ]
    )
    target.supervisor.start_daemon(
        str(Path(sys.executable).with_name("supervisord")), {"PATH": os.defpath}
    )
    wait_for(
        lambda: any(p.state == "RUNNING" for p in target.supervisor.programs()), 30, "the probe"
    )

    outcome = invoke(private_app, "local", "down", "-o", "json")
    assert outcome.exit_code == 0
    order = [(s["name"], s["stopped"]) for s in json.loads(outcome.stdout)["data"]["services"]]
    assert order[0] == ("platform", True)
    assert ("redis", True) in order[1:]
    assert report.read_text() == "redis answered when the program was stopped: True"
    assert not target.supervisor.running()


def test_a_kafka_node_the_environment_does_not_run_is_named_with_why(
    private_app: AppContext,
) -> None:
    outcome = invoke(private_app, "local", "up", "kafka-2")
    assert outcome.exit_code == ExitCode.USAGE
    assert "runs 1 Kafka node(s) (local.kafka_brokers); kafka-2 is node 2" in outcome.stderr
