"""`hyperscale kafka lag --watch`: in place on a terminal, a report per refresh when piped,
Ctrl-C a normal end."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.lag.core import LagQuery, consumer_lag
from hyperscale.kafka.lag.results import LagReport
from hyperscale.watching import watch
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic, produce

pytestmark = pytest.mark.kafka


@pytest.fixture
def lagging_group(bootstrap: str, prefix: str) -> str:
    """A group 3 messages behind on one partition."""
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    produce(bootstrap, topic, 0, [int(time.time() * 1000)] * 3)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 0})
    return group


def test_piped_json_is_one_envelope_per_line_and_refresh(
    lagging_group: str, isolated_app: AppContext
) -> None:
    args = ("-g", lagging_group, "--watch", "--count", "3", "--interval", "0", "-o", "json")
    outcome = invoke(isolated_app, "kafka", "lag", *args)

    assert outcome.exit_code == ExitCode.OK
    lines = outcome.stdout.splitlines()
    assert len(lines) == 3
    documents = [json.loads(line) for line in lines]
    assert {d["command"] for d in documents} == {"kafka lag"}
    assert [d["data"]["groups"][0]["lag_messages"] for d in documents] == [3, 3, 3]


def test_piped_yaml_is_one_document_per_refresh(
    lagging_group: str, isolated_app: AppContext
) -> None:
    args = ("-g", lagging_group, "--watch", "--count", "2", "--interval", "0", "-o", "yaml")
    outcome = invoke(isolated_app, "kafka", "lag", *args)

    assert outcome.exit_code == ExitCode.OK
    documents = list(yaml.safe_load_all(outcome.stdout))
    assert len(documents) == 2
    assert {d["command"] for d in documents} == {"kafka lag"}
    assert [d["data"]["groups"][0]["lag_messages"] for d in documents] == [3, 3]


def test_piped_prometheus_is_one_exposition_per_refresh(
    lagging_group: str, isolated_app: AppContext
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    args = ("-g", lagging_group, "--watch", "--count", "2", "--interval", "0", "-o", "prometheus")
    outcome = invoke(isolated_app, "kafka", "lag", *args)

    assert outcome.exit_code == ExitCode.OK
    expositions = [text for text in outcome.stdout.split("\n\n") if text.strip()]
    assert len(expositions) == 2
    for text in expositions:
        lags = [
            (s.labels["group"], s.value)
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "hyperscale_kafka_consumer_lag_messages"
        ]
        assert lags == [(lagging_group, 3)]


@pytest.mark.parametrize(
    ("fmt", "first_line"),
    [("yaml", "---"), ("prometheus", "# HELP hyperscale_kafka_consumer_lag_messages ")],
    ids=["yaml", "prometheus"],
)
def test_a_reader_that_goes_away_ends_the_watch_with_exit_0(
    lagging_group: str, isolated_app: AppContext, tmp_path: Path, fmt: str, first_line: str
) -> None:
    """`hyperscale kafka lag --watch -o FMT | head -n 3`: once head has its lines and exits,
    the next refresh finds the pipe closed and the watch ends, exit 0, nothing on stderr."""
    environ = {
        **os.environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(isolated_app.environments_dir),
        "HYPERSCALE_STATE_DIR": str(tmp_path / "state"),
    }
    argv = [sys.executable, "-m", "hyperscale", "kafka", "lag", "-g", lagging_group]
    watching = subprocess.Popen(
        [*argv, "--watch", "--interval", "0.1", "-o", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    head = subprocess.Popen(
        ["head", "-n", "3"], stdin=watching.stdout, stdout=subprocess.PIPE, text=True
    )
    assert watching.stdout is not None
    watching.stdout.close()  # head holds the only reading end, as in a shell pipeline
    try:
        lines, _ = head.communicate(timeout=60)
        _, err = watching.communicate(timeout=60)
    finally:
        for process in (watching, head):
            if process.poll() is None:
                process.kill()
                process.communicate()

    assert head.returncode == 0
    assert len(lines.splitlines()) == 3
    assert lines.startswith(first_line)
    assert watching.returncode == ExitCode.OK
    assert err == ""


def test_a_bounded_watch_exits_as_its_last_report(
    lagging_group: str, isolated_app: AppContext
) -> None:
    args = ("-g", lagging_group, "--watch", "--count", "2", "--interval", "0", "--max-lag", "2")
    outcome = invoke(isolated_app, "kafka", "lag", *args, "-o", "ndjson")

    assert outcome.exit_code == ExitCode.CHECK_FAILED  # lag 3 > 2, as without --watch
    assert len(outcome.stdout.splitlines()) == 2  # one partition line per refresh


def test_on_a_terminal_the_table_is_redrawn_in_place(
    lagging_group: str, isolated_app: AppContext
) -> None:
    isolated_app.stdout_isatty = True
    outcome = invoke(
        isolated_app, "kafka", "lag", "-g", lagging_group, "--watch", "--count", "2",
        "--interval", "0",
    )  # fmt: skip

    assert outcome.exit_code == ExitCode.OK
    cursor_up = "\x1b[1A"
    drawings = outcome.stdout.split("(Ctrl-C to stop)")
    assert len(drawings) - 1 >= 2  # each refresh, and Live's last paint on exit
    assert cursor_up in drawings[1]  # the second drawing went back over the first


def test_ctrl_c_ends_the_watch_with_exit_0(
    lagging_group: str, isolated_app: AppContext, tmp_path: Path
) -> None:
    """Ctrl-C at any moment of a refresh (building the Kafka clients, waiting on the broker,
    between refreshes) ends the watch normally: exit 0, nothing on stderr."""
    environ = {
        **os.environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(isolated_app.environments_dir),
        "HYPERSCALE_STATE_DIR": str(tmp_path / "state"),
    }
    argv = [sys.executable, "-m", "hyperscale", "kafka", "lag", "-g", lagging_group]
    # --timeout bounds each Kafka request: Ctrl-C ends the watch once the request in flight
    # returns, so the exit is bounded by it, whatever the machine's load.
    watch_argv = [*argv, "--watch", "--interval", "0.05", "--timeout", "3", "-o", "ndjson"]
    processes = [
        subprocess.Popen(watch_argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=environ)
        for _ in range(4)
    ]  # fmt: skip
    outcomes = []
    try:
        for n, process in enumerate(processes):
            assert process.stdout is not None
            first = process.stdout.readline()  # a refresh arrived: the watch is running
            time.sleep(0.02 * n)  # each one interrupted at another moment of its refreshes
            process.send_signal(signal.SIGINT)
            outcomes.append((first, *process.communicate(timeout=60)))  # a hang fails
    finally:
        for process in processes:
            if process.poll() is None:  # never leave one running into the next test
                process.kill()
                process.communicate()

    for process, (first, _rest, err) in zip(processes, outcomes, strict=True):
        assert json.loads(first)["group"] == lagging_group
        assert (process.returncode, err) == (ExitCode.OK, "")


def test_a_failed_refresh_is_shown_and_the_watch_goes_on(
    lagging_group: str, isolated_app: AppContext
) -> None:
    env = load_environment(isolated_app, "local")
    good = LagQuery(group_pattern=lagging_group, group_given=True)
    down = LagQuery(group_pattern=lagging_group, bootstrap="127.0.0.1:1", timeout=0.5)
    queries = iter([good, down, good])
    shown: list[LagReport | str] = []

    result = watch(
        lambda: consumer_lag(env, isolated_app, next(queries)), shown.append, 0.0, 3, "refreshes"
    )

    assert result.to_data() == {"refreshes": 3, "stopped_by_user": False}
    assert [type(s).__name__ for s in shown] == ["LagReport", "str", "LagReport"]
    assert "Kafka at 127.0.0.1:1 is unreachable" in str(shown[1])
    assert result.exit_code == ExitCode.OK


def test_the_first_refresh_failing_is_the_command_error(isolated_app: AppContext) -> None:
    outcome = invoke(
        isolated_app, "kafka", "lag", "--watch", "--count", "2", "--bootstrap", "127.0.0.1:1",
        "--timeout", "0.5",
    )  # fmt: skip
    assert outcome.exit_code == ExitCode.EXTERNAL
    [line] = outcome.stderr.strip().splitlines()
    assert "Kafka at 127.0.0.1:1 is unreachable" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--count", "2"), "--count needs --watch"),
        (("--watch", "--sample", "2"), "do not go together"),
        (("--watch", "--serve", "9999"), "do not go together"),
    ],
)
def test_modes_that_do_not_combine_are_usage_errors(
    isolated_app: AppContext, args: tuple[str, ...], message: str
) -> None:
    isolated_app.stderr = io.StringIO()
    outcome = invoke(isolated_app, "kafka", "lag", *args)
    assert outcome.exit_code == ExitCode.USAGE
    assert message in outcome.stderr
