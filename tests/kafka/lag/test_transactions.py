"""`kafka lag` on partitions written in transactions: the commit marker a transactional
producer leaves after its records is not lag (issue 20, item 1)."""

from __future__ import annotations

import json
import time

import pytest

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic, high_watermarks
from tests.support import wait_for

pytestmark = pytest.mark.kafka


def produce_in_transaction(bootstrap: str, topic: str, count: int, transactional_id: str) -> None:
    """``count`` records to partition 0 in one committed transaction: records 0..count-1, then
    the commit marker at offset ``count``."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": transactional_id})
    producer.init_transactions(30)
    producer.begin_transaction()
    now = int(time.time() * 1000)
    for i in range(count):
        producer.produce(topic, key=b"%d" % i, value=b"v", partition=0, timestamp=now - 60_000)
    producer.commit_transaction(30)


def test_a_group_that_read_everything_before_a_commit_marker_has_no_lag(
    bootstrap: str, prefix: str, isolated_app: AppContext
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-txn", 1)
    produce_in_transaction(bootstrap, topic, 3, f"{prefix}-producer")
    # Three records and the marker, which the coordinator writes after the commit returns.
    wait_for(lambda: high_watermarks(bootstrap, topic) == {0: 4}, 15, "the commit marker")
    caught_up, behind = f"{prefix}-caught-up", f"{prefix}-behind"
    commit(bootstrap, caught_up, {(topic, 0): 3})  # what a consumer commits after record 2
    commit(bootstrap, behind, {(topic, 0): 2})  # record 2 not read yet

    outcome = invoke(isolated_app, "kafka", "lag", "-g", f"{prefix}-.*", "-o", "json")

    assert outcome.exit_code == ExitCode.OK, outcome.stderr
    rows = {
        g["group"]: p for g in json.loads(outcome.stdout)["data"]["groups"] for p in g["partitions"]
    }
    # The caught-up group: lag 0 in messages and seconds, the marker counted apart.
    assert rows[caught_up]["lag_messages"] == 0
    assert rows[caught_up]["lag_seconds"] == 0.0
    assert rows[caught_up]["transaction_markers"] == 1
    # The group one record behind is behind: by the record's age (a minute), not hidden.
    assert rows[behind]["lag_messages"] == 2
    assert rows[behind]["transaction_markers"] == 0
    assert rows[behind]["lag_seconds"] >= 60


def test_sampling_a_caught_up_transactional_partition_is_not_a_stall(
    bootstrap: str, prefix: str, isolated_app: AppContext
) -> None:
    """The sampler called such partitions STALL ("the consumer is stuck") and exited 1."""
    topic = create_topic(bootstrap, f"{prefix}-txn", 1)
    produce_in_transaction(bootstrap, topic, 5, f"{prefix}-producer")
    wait_for(lambda: high_watermarks(bootstrap, topic) == {0: 6}, 15, "the commit marker")
    group = f"{prefix}-g"
    commit(bootstrap, group, {(topic, 0): 5})

    args = ("-g", group, "--sample", "3", "--interval", "0.2", "-o", "json")
    outcome = invoke(isolated_app, "kafka", "lag", *args)

    assert outcome.exit_code == ExitCode.OK, outcome.stdout + outcome.stderr
    [group_row] = json.loads(outcome.stdout)["data"]["groups"]
    [partition] = group_row["partitions"]
    assert partition["status"] == "OK"
    assert (partition["lag_messages"], partition["transaction_markers"]) == (0, 1)
