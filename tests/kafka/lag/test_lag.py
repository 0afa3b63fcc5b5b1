"""`hyperscale kafka lag` against the real local broker, checked against Apache's own tool."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.local.services.kafka import KafkaRuntime
from hyperscale.runner import run
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic, produce

pytestmark = pytest.mark.kafka

APACHE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"


# -- builders ---------------------------------------------------------------------------------


def produce_counts(bootstrap: str, topic: str, counts: Sequence[int]) -> None:
    now = int(time.time() * 1000)
    for partition, count in enumerate(counts):
        produce(bootstrap, topic, partition, [now - 60_000 + i for i in range(count)])


def lag_json(app: AppContext, *args: str) -> tuple[int, dict[str, Any]]:
    outcome = invoke(app, "kafka", "lag", "-o", "json", *args)
    return outcome.exit_code, json.loads(outcome.stdout)


def within_run(lag_seconds: float, record_ms: int, before: float, after: float) -> bool:
    """True when ``lag_seconds`` is the age of a record written at ``record_ms`` as measured at
    some moment between ``before`` and ``after`` (the test's clock readings around the run; the
    command rounds to the millisecond)."""
    record_s = record_ms / 1000
    return before - record_s - 0.001 <= lag_seconds <= after - record_s + 0.001


def rows(document: dict[str, Any]) -> dict[tuple[str, str, int], dict[str, Any]]:
    return {
        (p["group"], p["topic"], p["partition"]): p
        for g in document["data"]["groups"]
        for p in g["partitions"]
    }


def apache_describe(app: AppContext, bootstrap: str, groups: Sequence[str]) -> dict[tuple, tuple]:
    """(group, topic, partition) -> (CURRENT-OFFSET, LOG-END-OFFSET, LAG) from Apache's tool."""
    runtime = KafkaRuntime(app)
    group_args = [arg for g in groups for arg in ("--group", g)]
    argv = runtime.java_command(
        APACHE_GROUP_COMMAND, "--bootstrap-server", bootstrap, "--describe", *group_args
    )
    output = run(argv, timeout=120, what="kafka-consumer-groups --describe").stdout
    table: dict[tuple, tuple] = {}
    for line in output.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[0] in groups:
            group, topic, partition, current, end, lag = fields[:6]
            table[(group, topic, int(partition))] = (
                None if current == "-" else int(current),
                int(end),
                None if lag == "-" else int(lag),
            )
    return table


# -- the figures ------------------------------------------------------------------------------


def test_lag_equals_apache_consumer_group_command(
    bootstrap: str, isolated_app: AppContext, shared_app: AppContext, prefix: str
) -> None:
    orders = create_topic(bootstrap, f"{prefix}-orders", 3)
    events = create_topic(bootstrap, f"{prefix}-events", 2)
    produce_counts(bootstrap, orders, [10, 7, 0])
    produce_counts(bootstrap, events, [5, 12])
    groups = [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    commit(bootstrap, groups[0], {(orders, 0): 3, (orders, 1): 7, (orders, 2): 0, (events, 1): 1})
    commit(bootstrap, groups[1], {(orders, 0): 10, (events, 0): 0, (events, 1): 12})
    commit(bootstrap, groups[2], {(events, 0): 4})

    code, document = lag_json(isolated_app, "--group", f"{prefix}-.*", "--max-lag", "1000000")
    expected = apache_describe(shared_app, bootstrap, groups)

    assert code == ExitCode.OK, document
    ours = {
        key: (p["committed_offset"], p["log_end_offset"], p["lag_messages"])
        for key, p in rows(document).items()
    }
    assert len(expected) == 8
    assert {k: v for k, v in ours.items() if v[0] is not None} == expected
    # Apache's tool leaves out the partitions of a consumed topic the group never committed;
    # they are reported here, with no lag counted (issue 20, item 4).
    assert {k for k, v in ours.items() if v[0] is None} == {
        (groups[0], events, 0), (groups[1], orders, 1), (groups[1], orders, 2),
        (groups[2], events, 1),
    }  # fmt: skip
    assert {v[2] for v in ours.values() if v[0] is None} == {None}


def test_time_lag_is_the_age_of_the_record_at_the_committed_offset(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 2)
    now_ms = int(time.time() * 1000)
    # partition 0: offsets 0..4 at now-300 s .. now-120 s (offset 4 at exactly now-120 s)
    produce(bootstrap, topic, 0, [now_ms - 300_000 + i * 45_000 for i in range(5)])
    produce(bootstrap, topic, 0, [now_ms - 10_000])
    produce(bootstrap, topic, 1, [now_ms - 50_000, now_ms - 40_000])
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 4, (topic, 1): 2})

    before = time.time()
    code, document = lag_json(isolated_app, "--group", group, "--max-seconds", "3600")
    after = time.time()

    assert code == ExitCode.OK
    caught_up, behind = rows(document)[(group, topic, 1)], rows(document)[(group, topic, 0)]
    assert behind["lag_messages"] == 2
    assert behind["time_lag_method"] == "record"
    # The age of offset 4 at the moment the command measured, which lies between the clock
    # readings taken around it: exact, however long the run took.
    assert within_run(behind["lag_seconds"], now_ms - 120_000, before, after)
    assert (caught_up["lag_messages"], caught_up["lag_seconds"]) == (0, 0.0)
    assert document["data"]["groups"][0]["lag_seconds"] == behind["lag_seconds"]


def test_retention_loss_and_missing_commits_are_flagged(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    now_ms = int(time.time() * 1000)
    produce(bootstrap, topic, 0, [now_ms - 100_000 + i * 10_000 for i in range(10)])
    lost = f"{prefix}-lost"
    commit(bootstrap, lost, {(topic, 0): 2})
    admin = AdminClient({"bootstrap.servers": bootstrap})
    deleted = admin.delete_records([TopicPartition(topic, 0, 5)])
    next(iter(deleted.values())).result(timeout=30)

    fresh = f"{prefix}-fresh"  # a live member that has not committed anything yet
    member = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": fresh, "enable.auto.commit": False}
    )
    member.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        code, document = lag_json(isolated_app, "--group", f"{prefix}-.*", "--max-seconds", "3600")
    finally:
        member.close()

    assert code == ExitCode.OK
    gone, unset = rows(document)[(lost, topic, 0)], rows(document)[(fresh, topic, 0)]
    assert (gone["log_start_offset"], gone["lag_messages"], gone["retention_loss"]) == (5, 8, True)
    assert gone["time_lag_method"] == "interpolated"
    assert gone["lag_seconds"] >= 50 - 1  # at least the age of the oldest record still there
    assert unset["no_committed_offset"] is True
    assert (unset["committed_offset"], unset["lag_messages"], unset["lag_seconds"]) == (
        None,
        None,
        None,
    )
    groups = {g["group"]: g for g in document["data"]["groups"]}
    assert (groups[fresh]["state"], groups[fresh]["members"], groups[fresh]["idle"]) == (
        "Stable",
        1,
        False,
    )
    assert (groups[lost]["state"], groups[lost]["idle"]) == ("Empty", True)


def groups_in(app: AppContext, prefix: str, *states: str) -> dict[str, str]:
    """Group -> state of the prefix's groups `kafka lag --state ...` reports."""
    flags = [arg for state in states for arg in ("--state", state)]
    code, document = lag_json(app, "-g", f"{prefix}-.*", *flags)
    assert code == ExitCode.OK, document
    return {g["group"]: g["state"] for g in document["data"]["groups"]}


def test_state_keeps_only_the_groups_in_those_states(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    from confluent_kafka import Consumer

    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    produce(bootstrap, topic, 0, [int(time.time() * 1000)] * 2)
    idle, live = f"{prefix}-idle", f"{prefix}-live"
    commit(bootstrap, idle, {(topic, 0): 1})  # no members: Empty
    member = Consumer({"bootstrap.servers": bootstrap, "group.id": live})
    member.subscribe([topic])
    try:
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(0.2)
        assert member.assignment(), "the member was not assigned the topic in 30 s"
        stable = groups_in(isolated_app, prefix, "Stable")
        empty = groups_in(isolated_app, prefix, "Empty")
        both = groups_in(isolated_app, prefix, "Stable", "Empty")
        named = invoke(isolated_app, "kafka", "lag", "-g", idle, "--state", "Stable")
    finally:
        member.close()

    assert (stable, empty, both) == (
        {live: "Stable"},
        {idle: "Empty"},
        {idle: "Empty", live: "Stable"},
    )
    # A group named outright but in another state: said so, not "no such group".
    assert named.exit_code == ExitCode.USAGE
    [line] = named.stderr.strip().splitlines()
    assert f"no consumer group on {bootstrap} matches '{idle}' in state Stable" in line


# -- thresholds and formats -------------------------------------------------------------------


@dataclass(frozen=True)
class Lagging:
    group: str
    topic: str
    #: The timestamp of the record at the group's committed offset on partition 0.
    behind_since_ms: int


@pytest.fixture
def lagging(bootstrap: str, prefix: str) -> Lagging:
    """A group 5 messages behind on partition 0 of its topic, 30 s behind."""
    topic = create_topic(bootstrap, f"{prefix}-t", 2)
    now_ms = int(time.time() * 1000)
    produce(bootstrap, topic, 0, [now_ms - 30_000 + i for i in range(5)])
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 0, (topic, 1): 0})
    return Lagging(group, topic, now_ms - 30_000)


def test_a_breached_threshold_exits_1_and_lists_the_breach(
    lagging: Lagging, isolated_app: AppContext
) -> None:
    group, topic = lagging.group, lagging.topic
    table = invoke(isolated_app, "kafka", "lag", "--group", group, "--max-lag", "3")
    assert table.exit_code == ExitCode.CHECK_FAILED
    assert f"{group} {topic}[0]: lag 5 messages > 3 messages" in table.stdout

    code, document = lag_json(isolated_app, "--group", group, "--max-seconds", "10")
    assert code == ExitCode.CHECK_FAILED
    assert document["status"] == "failed"
    [breach] = document["data"]["breaches"]
    assert (breach["topic"], breach["partition"], breach["measure"], breach["limit"]) == (
        topic,
        0,
        "seconds",
        10,
    )


def test_thresholds_default_to_the_environment_slo(
    lagging: Lagging, isolated_app: AppContext
) -> None:
    group = lagging.group
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    data["slo"]["consumer_lag_messages"] = 4
    path.write_text(yaml.safe_dump(data))

    code, document = lag_json(isolated_app, "--group", group)

    assert code == ExitCode.CHECK_FAILED
    assert document["data"]["thresholds"]["max_lag_messages"] == 4
    assert [b["measure"] for b in document["data"]["breaches"]] == ["messages"]


def test_the_json_envelope(lagging: Lagging, isolated_app: AppContext) -> None:
    group, topic = lagging.group, lagging.topic
    code, document = lag_json(isolated_app, "--group", group)
    assert code == ExitCode.OK
    assert set(document) == {"apiVersion", "command", "status", "exit_code", "data", "errors"}
    assert (document["apiVersion"], document["command"], document["status"]) == (
        "hyperscale.dev/v1",
        "kafka lag",
        "ok",
    )
    [only] = document["data"]["groups"]
    assert set(only) == {
        "group", "state", "members", "idle", "lag_messages", "lag_seconds", "partitions",
        "topic_deleted",
    }  # fmt: skip
    assert set(only["partitions"][0]) == {
        "group", "topic", "partition", "committed_offset", "log_start_offset", "log_end_offset",
        "lag_messages", "lag_seconds", "time_lag_method", "client_id", "no_committed_offset",
        "retention_loss", "transaction_markers", "lag_if_reset",
    }  # fmt: skip
    assert only["lag_messages"] == 5
    assert [p["topic"] for p in only["partitions"]] == [topic, topic]


def test_ndjson_is_one_object_per_partition(lagging: Lagging, isolated_app: AppContext) -> None:
    group, topic = lagging.group, lagging.topic
    outcome = invoke(isolated_app, "kafka", "lag", "--group", group, "-o", "ndjson")
    assert outcome.exit_code == ExitCode.OK
    lines = [json.loads(line) for line in outcome.stdout.splitlines()]
    assert [(r["topic"], r["partition"], r["lag_messages"]) for r in lines] == [
        (topic, 0, 5),
        (topic, 1, 0),
    ]
    assert lines[0]["state"] == "Empty"


def test_prometheus_text_parses(lagging: Lagging, isolated_app: AppContext) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    group, topic = lagging.group, lagging.topic
    before = time.time()
    outcome = invoke(isolated_app, "kafka", "lag", "--group", group, "-o", "prometheus")
    after = time.time()
    assert outcome.exit_code == ExitCode.OK
    samples = {
        (s.name, s.labels.get("partition")): s
        for family in text_string_to_metric_families(outcome.stdout)
        for s in family.samples
    }
    lag = samples[("hyperscale_kafka_consumer_lag_messages", "0")]
    assert lag.labels == {"group": group, "topic": topic, "partition": "0"}
    assert lag.value == 5
    assert samples[("hyperscale_kafka_consumer_log_end_offset", "0")].value == 5
    assert samples[("hyperscale_kafka_consumer_committed_offset", "1")].value == 0
    seconds = samples[("hyperscale_kafka_consumer_lag_seconds", "0")].value
    assert within_run(seconds, lagging.behind_since_ms, before, after), (seconds, before, after)


def test_a_topic_filter_keeps_only_that_topic(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    one = create_topic(bootstrap, f"{prefix}-one", 1)
    two = create_topic(bootstrap, f"{prefix}-two", 1)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(one, 0): 0, (two, 0): 0})
    _, document = lag_json(isolated_app, "--group", group, "--topic", two)
    assert {key[1] for key in rows(document)} == {two}


# -- bad input --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_broker_is_one_line_and_exit_3(isolated_app: AppContext) -> None:
    address = f"127.0.0.1:{_free_port()}"
    outcome = invoke(isolated_app, "kafka", "lag", "--bootstrap", address, "--timeout", "1")
    assert outcome.exit_code == ExitCode.EXTERNAL
    [line] = outcome.stderr.strip().splitlines()
    assert line.startswith(f"error: Kafka at {address} is unreachable")


def test_a_group_that_matches_nothing_is_a_usage_error(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    outcome = invoke(isolated_app, "kafka", "lag", "--group", f"{prefix}-absent")
    assert outcome.exit_code == ExitCode.USAGE
    [line] = outcome.stderr.strip().splitlines()
    assert f"no consumer group on {bootstrap} matches '{prefix}-absent'" in line


def test_a_malformed_bootstrap_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "kafka", "lag", "--bootstrap", "no-port")
    assert outcome.exit_code == ExitCode.USAGE
    assert "--bootstrap 'no-port'" in outcome.stderr
