"""`hyperscale kafka lag --sample N --interval S`: each status rule, driven on the real bootstrap.

The sampler runs in-process (``sample_lag``) with a ``between`` callback that performs the next
step of the scenario, so what the bootstrap holds at each snapshot is decided here, not by sleeps
racing the sampler.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.lag.core import LagQuery
from hyperscale.kafka.lag.results import LagReport, LagStatus
from hyperscale.kafka.lag.sampling import PartitionSample, sample_lag, status
from tests.conftest import invoke
from tests.kafka.support import commit, committed_total, create_topic, high_watermarks, produce
from tests.support import wait_for

# -- the pure rules ---------------------------------------------------------------------------


def series(*rows: tuple[int | None, int | None], step: float = 1.0) -> list[PartitionSample]:
    """Samples from (committed offset, log end) pairs, ``step`` seconds apart."""
    return [
        PartitionSample(
            at=1000.0 + i * step,
            committed_offset=committed,
            log_end_offset=end,
            lag_messages=None if committed is None or end is None else max(0, end - committed),
        )
        for i, (committed, end) in enumerate(rows)
    ]


@pytest.mark.parametrize(
    ("samples", "members", "expected", "reason_part"),
    [
        (series((10, 10), (20, 20), (30, 30)), 1, LagStatus.OK, "no lag at the last sample"),
        (series((0, 10), (8, 14), (16, 18)), 1, LagStatus.OK, "lag not growing"),
        (series((0, 10), (5, 20), (10, 30)), 1, LagStatus.WARN, "10 -> 15 -> 20"),
        (series((0, 10), (5, 20), (10, 25), (15, 30)), 1, LagStatus.OK, "not growing"),
        (series((5, 10), (5, 20), (5, 30)), 1, LagStatus.STALL, "stayed at 5"),
        (series((5, 10), (5, 10)), 2, LagStatus.STALL, "2 member(s)"),
        (series((5, 10), (5, 10), (5, 12)), 0, LagStatus.STOP, "no members"),
        (series((8, 10), (3, 10), (3, 10)), 0, LagStatus.REWIND, "from 8 to 3"),
        (series((8, 10), (9, 10), (4, 10)), 1, LagStatus.REWIND, "samples 2 and 3"),
        (series((5, 5), (5, 5)), 0, LagStatus.OK, "no lag"),
        (series((None, 5), (None, 9)), 1, LagStatus.OK, "nothing to judge"),
    ],
)
def test_status_rules(
    samples: list[PartitionSample], members: int, expected: LagStatus, reason_part: str
) -> None:
    verdict, reason = status(samples, members)
    assert verdict is expected, reason
    assert reason_part in reason


def test_an_unreadable_sample_is_err_before_every_other_rule() -> None:
    rewound = series((8, 10), (3, 10), (3, 10))
    failed = [*rewound, PartitionSample(at=0.0, error="Kafka at b:9092 is unreachable")]
    verdict, reason = status(failed, 0)
    assert verdict is LagStatus.ERR
    assert "unreachable" in reason


def test_statuses_order_by_severity() -> None:
    order = [LagStatus.OK, LagStatus.WARN, LagStatus.STALL, LagStatus.STOP, LagStatus.REWIND]
    assert [s.severity for s in [*order, LagStatus.ERR]] == list(range(6))


# -- driven on the bootstrap ---------------------------------------------------------------------


def sampled(app: AppContext, group: str, samples: int, between: Callable[[int], None]) -> LagReport:
    env = load_environment(app, "local")
    query = LagQuery(group_pattern=group, group_given=True, max_lag_messages=10**9)
    return sample_lag(env, app, query, samples, interval=1.0, between=between)


def only_partition(report: LagReport) -> dict[str, Any]:
    [group] = report.to_data()["groups"]
    [partition] = group["partitions"]
    assert group["status"] == partition["status"]
    return dict(partition)


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.mark.kafka
def test_a_group_that_caught_up_is_ok(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic, group = create_topic(bootstrap, f"{prefix}-t", 1), f"{prefix}-g"
    produce(bootstrap, topic, 0, [now_ms()] * 5)
    commit(bootstrap, group, {(topic, 0): 2})

    def step(i: int) -> None:
        produce(bootstrap, topic, 0, [now_ms()] * 3)
        commit(bootstrap, group, {(topic, 0): 5 + 3 * (i + 1)})  # up to the log end
        time.sleep(0.3)

    report = sampled(isolated_app, group, 3, step)

    row = only_partition(report)
    assert row["status"] == "OK", row
    assert row["lag_messages"] == 0
    assert row["consumption_rate"] > row["production_rate"] > 0
    assert row["lag_trend"] < 0  # 3 -> 0: catching up
    assert row["eta_seconds"] == 0
    assert report.exit_code is ExitCode.OK


@pytest.mark.kafka
def test_lag_growing_at_every_step_while_commits_move_is_warn(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    topic, group = create_topic(bootstrap, f"{prefix}-t", 1), f"{prefix}-g"
    produce(bootstrap, topic, 0, [now_ms()] * 10)
    commit(bootstrap, group, {(topic, 0): 0})
    committed = [0]

    def slow_consumer() -> None:  # commits 2 records a step: slower than the 10 produced
        committed[0] += 2
        commit(bootstrap, group, {(topic, 0): committed[0]})

    def step(_: int) -> None:
        with ThreadPoolExecutor(max_workers=1) as pool:
            committing = pool.submit(slow_consumer)
            produce(bootstrap, topic, 0, [now_ms()] * 10)
            committing.result(timeout=15)
        time.sleep(0.3)

    report = sampled(isolated_app, group, 3, step)

    row = only_partition(report)
    assert row["status"] == "WARN", row
    assert "10 -> 18 -> 26" in row["status_reason"]
    assert (row["committed_offset"], row["log_end_offset"]) == (4, 30)
    assert row["production_rate"] > row["consumption_rate"] > 0
    assert row["lag_trend"] > 0
    assert row["eta_seconds"] is None  # falling behind: no catch-up
    assert report.exit_code is ExitCode.CHECK_FAILED


@pytest.mark.kafka
def test_a_live_member_that_never_commits_is_stall(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    from confluent_kafka import Consumer, TopicPartition

    topic, group = create_topic(bootstrap, f"{prefix}-t", 1), f"{prefix}-g"
    produce(bootstrap, topic, 0, [now_ms()] * 6)
    member = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    member.subscribe([topic])
    try:
        deadline = time.monotonic() + 15
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        member.commit(offsets=[TopicPartition(topic, 0, 2)], asynchronous=False)

        def step(_: int) -> None:
            produce(bootstrap, topic, 0, [now_ms()] * 4)
            member.poll(0.3)  # alive, reading, but never committing again

        report = sampled(isolated_app, group, 3, step)
    finally:
        member.close()

    row = only_partition(report)
    assert row["status"] == "STALL", row
    assert (row["committed_offset"], row["log_end_offset"], row["lag_messages"]) == (2, 14, 12)
    assert row["consumption_rate"] == 0
    assert row["production_rate"] > 0
    [group_data] = report.to_data()["groups"]
    assert group_data["members"] == 1
    assert report.exit_code is ExitCode.CHECK_FAILED


@pytest.mark.kafka
def test_an_empty_group_lagging_with_stopped_commits_is_stop(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic, group = create_topic(bootstrap, f"{prefix}-t", 1), f"{prefix}-g"
    produce(bootstrap, topic, 0, [now_ms()] * 10)
    commit(bootstrap, group, {(topic, 0): 4})

    def step(_: int) -> None:
        produce(bootstrap, topic, 0, [now_ms()] * 2)
        time.sleep(0.3)

    report = sampled(isolated_app, group, 3, step)

    row = only_partition(report)
    assert row["status"] == "STOP", row
    assert "no members" in row["status_reason"]
    assert (row["committed_offset"], row["lag_messages"]) == (4, 10)
    [group_data] = report.to_data()["groups"]
    assert (group_data["state"], group_data["members"]) == ("Empty", 0)
    assert report.exit_code is ExitCode.CHECK_FAILED


@pytest.mark.kafka
def test_an_offset_moved_back_between_samples_is_rewind(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    from confluent_kafka.admin import AdminClient

    topic, group = create_topic(bootstrap, f"{prefix}-t", 1), f"{prefix}-g"
    produce(bootstrap, topic, 0, [now_ms()] * 10)
    commit(bootstrap, group, {(topic, 0): 8})
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def step(i: int) -> None:
        if i == 0:  # an operator resets the (empty) group to replay
            request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 3)])
            admin.alter_consumer_group_offsets([request])[group].result(timeout=15)
        time.sleep(0.3)

    report = sampled(isolated_app, group, 3, step)

    row = only_partition(report)
    assert row["status"] == "REWIND", row
    assert "from 8 to 3 between samples 1 and 2" in row["status_reason"]
    assert row["consumption_rate"] < 0
    assert report.exit_code is ExitCode.CHECK_FAILED


@pytest.mark.kafka
def test_the_command_samples_and_fails_when_a_partition_is_not_ok(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 2)
    produce(bootstrap, topic, 0, [now_ms()] * 5)
    stopped, done = f"{prefix}-stopped", f"{prefix}-done"
    commit(bootstrap, stopped, {(topic, 0): 1, (topic, 1): 0})
    commit(bootstrap, done, {(topic, 0): 5, (topic, 1): 0})
    args = ["kafka", "lag", "--group", f"{prefix}-.*", "--max-lag", "1000"]
    sampling = ["--sample", "2", "--interval", "0.2", "-o", "json"]

    outcome = invoke(isolated_app, *args, *sampling)

    assert outcome.exit_code == ExitCode.CHECK_FAILED, outcome.stderr
    document = json.loads(outcome.stdout)
    groups = {g["group"]: g for g in document["data"]["groups"]}
    assert (groups[stopped]["status"], groups[done]["status"]) == ("STOP", "OK")
    assert groups[stopped]["status_reason"].startswith(f"{topic}[0]: ")
    assert document["data"]["sampling"]["samples"] == 2
    assert set(document["data"]["sampling"]["status_rules"]) == {s.value for s in LagStatus}
    assert document["data"]["breaches"] == []

    only_ok = invoke(isolated_app, *args, *sampling, "--status", "ok")
    assert only_ok.exit_code == ExitCode.OK, only_ok.stderr
    kept = json.loads(only_ok.stdout)["data"]["groups"]
    assert sorted((g["group"], p["partition"]) for g in kept for p in g["partitions"]) == [
        (done, 0),
        (done, 1),
        (stopped, 1),
    ]
    only_stop = invoke(isolated_app, *args, *sampling, "--status", "STOP")
    assert only_stop.exit_code == ExitCode.CHECK_FAILED
    [kept_group] = json.loads(only_stop.stdout)["data"]["groups"]
    assert (kept_group["group"], len(kept_group["partitions"])) == (stopped, 1)

    table = invoke(isolated_app, *args, "--sample", "2", "--interval", "0.2")
    assert table.exit_code == ExitCode.CHECK_FAILED
    assert "STOP" in table.stdout

    snapshot = invoke(isolated_app, *args, "-o", "json")  # without --sample: as before
    assert snapshot.exit_code == ExitCode.OK
    assert "sampling" not in json.loads(snapshot.stdout)["data"]


@pytest.mark.kafka
def test_bad_sampling_flags_are_usage_errors(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    group = f"{prefix}-g"
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    commit(bootstrap, group, {(topic, 0): 0})
    assert invoke(isolated_app, "kafka", "lag", "--sample", "1").exit_code == ExitCode.USAGE
    no_sample = invoke(isolated_app, "kafka", "lag", "--group", group, "--status", "OK")
    assert no_sample.exit_code == ExitCode.USAGE
    assert "--status needs --sample" in no_sample.stderr
    bad = invoke(isolated_app, "kafka", "lag", "-g", group, "--sample", "2", "--status", "LATE")
    assert bad.exit_code == ExitCode.USAGE
    assert "'LATE' is not a status" in bad.stderr


@pytest.mark.kafka
def test_a_snapshot_that_fails_after_the_first_makes_its_partitions_err(
    bootstrap: str,
    isolated_app: AppContext,
    shared_app: AppContext,
    local_env: Environment,
    prefix: str,
) -> None:
    """The real broker is stopped after the first snapshot (as `hyperscale local down kafka`
    does) and started again after the second: the second snapshot cannot be read, and that
    makes the partition ERR whatever the other two say."""
    from hyperscale.local import core

    topic, group = create_topic(bootstrap, f"{prefix}-t", 1), f"{prefix}-g"
    produce(bootstrap, topic, 0, [now_ms()] * 3)
    commit(bootstrap, group, {(topic, 0): 3})
    stopped: list[bool] = []

    def broker_gone(_: int) -> None:
        down = core.down(local_env, shared_app, ["kafka"])
        stopped.append(True)
        assert down.stopped == [("kafka", True)], f"the test's broker was not running: {down}"

    def broker_back(_: int) -> None:
        start_broker_again(shared_app, local_env, bootstrap, group, topic, committed=3)
        stopped.clear()

    steps = [broker_gone, broker_back]
    env = load_environment(isolated_app, "local")
    query = LagQuery(group_pattern=group, group_given=True, max_lag_messages=10**9, timeout=3)
    try:
        report = sample_lag(env, isolated_app, query, 3, interval=0, between=lambda i: steps[i](i))
    finally:
        if stopped:  # whatever failed, the next tests get their broker back
            core.up(local_env, shared_app, ["kafka"])

    row = only_partition(report)
    assert row["status"] == "ERR", row
    errors = report.to_data()["sampling"]["errors"]
    assert len(errors) == 1, errors
    [error] = errors
    assert f"Kafka at {bootstrap} is unreachable" in error
    assert error in row["status_reason"]
    assert (row["committed_offset"], row["lag_messages"]) == (3, 0)  # the third snapshot: back
    assert report.exit_code is ExitCode.CHECK_FAILED


def start_broker_again(
    app: AppContext, env: Environment, bootstrap: str, group: str, topic: str, committed: int
) -> None:
    """`hyperscale local up kafka`, then wait until the broker serves the group again: it
    answers before its group coordinator has loaded (first an empty list of groups, then
    "coordinator load in progress"), and the test is about the snapshot that failed, not
    about those."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    from hyperscale.local import core

    result = core.up(env, app, ["kafka"])
    assert all(s.state.healthy for s in result.services), result.services
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def serves_the_group() -> bool:
        try:
            listing = admin.list_consumer_groups(request_timeout=10).result(timeout=15)
            listed = not listing.errors and group in {g.group_id for g in listing.valid}
            return (
                listed
                and committed_total(bootstrap, group, topic, 1) == committed
                and high_watermarks(bootstrap, topic) == {0: committed}
            )
        except KafkaException:
            return False

    wait_for(serves_the_group, 60, "the broker to serve the group after its restart", 0.2)
