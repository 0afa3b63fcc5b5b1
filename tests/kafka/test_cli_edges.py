"""The Kafka commands' edge cases of issue 19, item 11, through the real CLI process: each is
one clear error line with the right exit code, no traceback, and nothing sent anywhere it
should not go."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.support import free_port

pytestmark = pytest.mark.kafka

#: Every Kafka command that takes --bootstrap and --timeout (a dry-run replay sends nothing).
KAFKA_COMMANDS = [
    ["kafka", "lag"],
    ["kafka", "health"],
    ["kafka", "topics", "diff"],
    ["kafka", "dlq", "inspect"],
    ["kafka", "dlq", "replay", "--dry-run"],
]


@dataclass(frozen=True)
class Run:
    exit_code: int
    stdout: str
    stderr: str


def cli(app: AppContext, *args: str, state_dir: Path | None = None) -> Run:
    """`hyperscale ARGS` as a user runs it: its own process, the test's environments and state."""
    environ = {
        **os.environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(app.environments_dir),
        "HYPERSCALE_STATE_DIR": str(state_dir or app.state_dir),
        "NO_COLOR": "1",
        "HYPERSCALE_TEST_KAFKA_PASSWORD": "not-a-real-password",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "hyperscale", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def one_error_line(run: Run) -> str:
    assert "Traceback" not in run.stderr, run
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error:", "Error:"))]
    assert len(errors) == 1, run
    return errors[0]


@pytest.fixture
def listener() -> Iterator[tuple[int, list[object]]]:
    """A loopback TCP port that records every connection made to it (a stranger's "broker")."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            accepted.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "3601", "1e400", "-1", "0"])
def test_a_timeout_that_is_no_wait_librdkafka_can_make_is_a_usage_error(
    bootstrap: str, isolated_app: AppContext, value: str
) -> None:
    """`--timeout inf` was reported as "Kafka ... is unreachable" (exit 3) with the broker up:
    librdkafka refused the value. A timeout is 0.1 s to an hour."""
    for command in KAFKA_COMMANDS if value == "inf" else KAFKA_COMMANDS[:1]:
        run = cli(isolated_app, *command, "--bootstrap", bootstrap, f"--timeout={value}")
        assert run.exit_code == ExitCode.USAGE, (command, run)
        line = one_error_line(run)
        assert "--timeout" in line, (command, run)
        assert "unreachable" not in run.stderr


def test_the_longest_timeout_is_accepted(bootstrap: str, isolated_app: AppContext) -> None:
    run = cli(isolated_app, "kafka", "health", "--bootstrap", bootstrap, "--timeout", "3600")
    assert run.exit_code == ExitCode.OK, run


@pytest.mark.parametrize("value", ["", " ", ",", " , "])
def test_an_empty_bootstrap_is_refused_not_replaced_by_the_environment(
    bootstrap: str, isolated_app: AppContext, value: str
) -> None:
    """`--bootstrap ""` used to read the environment's own cluster, silently."""
    for command in KAFKA_COMMANDS if value == "" else KAFKA_COMMANDS[:1]:
        run = cli(isolated_app, *command, "--bootstrap", value, "--timeout", "5")
        assert run.exit_code == ExitCode.USAGE, (command, run)
        assert "--bootstrap is empty" in one_error_line(run), (command, run)
        assert run.stdout == "", (command, run)


@pytest.mark.parametrize("command", [["kafka", "lag"], ["local", "status"], ["kafka", "health"]])
def test_a_state_directory_that_is_a_file_is_a_config_error(
    isolated_app: AppContext, tmp_path: Path, command: list[str]
) -> None:
    """It crashed with exit 70 (NotADirectoryError) in whichever command wrote under it first."""
    a_file = tmp_path / "state-file"
    a_file.write_text("not a directory\n")
    for state in (a_file, a_file / "below" / "it"):
        run = cli(isolated_app, *command, state_dir=state)
        assert run.exit_code == ExitCode.USAGE, run
        line = one_error_line(run)
        assert f"the state directory {state}" in line
        assert "not a directory" in line
        assert "HYPERSCALE_STATE_DIR" in line
    assert a_file.read_text() == "not a directory\n"


@pytest.mark.parametrize(
    "extra", [[], ["orders.dlq"], ["--dry-run"], ["--at-least-once"], ["--to", "orders"]]
)
def test_replay_against_a_closed_port_says_kafka_is_unreachable(
    isolated_app: AppContext, extra: list[str]
) -> None:
    port = free_port()
    run = cli(
        isolated_app,
        "kafka",
        "dlq",
        "replay",
        *extra,
        "--bootstrap",
        f"127.0.0.1:{port}",
        "--timeout",
        "1",
    )
    assert run.exit_code == ExitCode.EXTERNAL, run
    line = one_error_line(run)
    assert f"Kafka at 127.0.0.1:{port} is unreachable" in line
    assert "KafkaError{" not in run.stderr
    assert "cimpl" not in run.stderr


def _with_kafka_credentials(app: AppContext, broker: str) -> str:
    """A copy of staging (not protected) whose Kafka connection carries SASL credentials."""
    data = yaml.safe_load((app.environments_dir / "staging.yaml").read_text())
    data["name"] = "creds"
    data["kafka"]["bootstrap_servers"] = [broker]
    data["kafka"]["security"] = {
        "protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "username": "hyperscale-ops",
        "password": {"env": "HYPERSCALE_TEST_KAFKA_PASSWORD"},
    }
    (app.environments_dir / "creds.yaml").write_text(yaml.safe_dump(data))
    return "creds"


def test_bootstrap_never_takes_prod_credentials_to_another_host(
    isolated_app: AppContext, listener: tuple[int, list[object]]
) -> None:
    """--bootstrap with --env prod would have sent prod's SASL login to whatever host it names.
    Refused before anything connects: no credential is resolved and no connection made."""
    port, accepted = listener
    stranger = f"127.0.0.1:{port}"
    for command in [*KAFKA_COMMANDS, ["kafka", "dlq", "replay", "--yes"]]:
        run = cli(isolated_app, *command, "--env", "prod", "--bootstrap", stranger)
        assert run.exit_code == ExitCode.USAGE, (command, run)
        line = one_error_line(run)
        assert f"--bootstrap {stranger} is not a broker of prod" in line, (command, run)
    assert accepted == []


def test_bootstrap_with_credentials_may_name_the_environments_own_brokers_only(
    isolated_app: AppContext, listener: tuple[int, list[object]]
) -> None:
    """Not only protected environments: any whose Kafka connection has credentials."""
    port, accepted = listener
    env = _with_kafka_credentials(isolated_app, f"127.0.0.1:{port}")
    other = f"127.0.0.1:{free_port()}"
    mixed = cli(isolated_app, "kafka", "lag", "--env", env, "--bootstrap", f"{other},localhost:1")
    assert mixed.exit_code == ExitCode.USAGE, mixed
    assert f"--bootstrap {other},localhost:1 is not a broker of creds" in one_error_line(mixed)
    assert accepted == []
    # Its own broker (spelled again) is allowed: the command goes there and nowhere else.
    own = cli(
        isolated_app, "kafka", "health", "--env", env, "--bootstrap", f"127.0.0.1:{port}",
        "--timeout", "1",
    )  # fmt: skip
    assert own.exit_code != ExitCode.USAGE, own
    assert accepted, "the environment's own broker was not contacted"


def test_bootstrap_without_credentials_still_goes_anywhere(
    bootstrap: str, isolated_app: AppContext
) -> None:
    """The local environment has no credentials and is not protected: --bootstrap names any
    cluster, as before."""
    run = cli(isolated_app, "kafka", "health", "--bootstrap", bootstrap, "--timeout", "10")
    assert run.exit_code == ExitCode.OK, run
