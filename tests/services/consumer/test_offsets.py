"""Offsets are committed only after the MySQL COMMIT; SIGTERM finishes the batch and exits 0,
or, when the batch outlasts the stop's grace, abandons it uncommitted."""

from __future__ import annotations

import json
import signal
import time

import pytest
from confluent_kafka import Consumer

from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import (
    EventProducer,
    MySQL,
    Topics,
    assert_commits_follow_mysql,
    committed_offsets,
    end_offsets,
    marketing_event,
    order_event,
)
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql]


@pytest.mark.timeout(150)
def test_offsets_wait_for_the_database_commit(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    campaign = f"camp-lock-{topics.events[-10:]}"
    events = [marketing_event(campaign, "click") for _ in range(300)]

    # Another transaction holds the campaign's row: the consumer's batch cannot commit.
    with mysql.connect() as blocker:
        blocker.autocommit(False)
        with blocker.cursor() as cur:
            cur.execute("INSERT INTO campaign_stats (campaign_id) VALUES (%s)", (campaign,))
        producer.send_all(topics.events, events)
        consumer = start_consumer(CONSUMER_BATCH_SIZE="100")

        # Past the consumer's 15 s lock wait: its transaction failed, was rolled back, retried.
        wait_for(
            lambda: consumer.metric("platform_consumer_db_retries_total", 'reason="lock"') >= 1,
            60,
            "a lock-wait retry",
            interval=1,
        )
        assert committed_offsets(bootstrap, group, topics.all) == {}, (
            "offsets were committed for a batch MySQL has not committed"
        )
        assert mysql.processed_count(topics.all) == 0
        blocker.commit()

    wait_for(lambda: mysql.processed_count(topics.all) == len(events), 60, "the batch applied")
    ends = end_offsets(bootstrap, topics.all)
    wait_for(
        lambda: assert_commits_follow_mysql(bootstrap, group, mysql, topics.all) == ends,
        30,
        "offsets committed after the database",
    )
    # Retried, but applied once.
    assert mysql.campaign(campaign) == (0, len(events), 0, 0)
    assert consumer.metric("platform_consumer_last_commit_timestamp_seconds") > time.time() - 120


@pytest.mark.timeout(180)
def test_sigterm_finishes_the_batch_commits_and_exits_zero(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    campaigns = [f"camp-term-{i}-{topics.events[-10:]}" for i in range(10)]
    total = 40_000
    producer.send_all(
        topics.events, (marketing_event(campaigns[i % 10], "impression") for i in range(total))
    )

    consumer = start_consumer(CONSUMER_BATCH_SIZE="50")
    applied = wait_for(
        lambda: (count := mysql.processed_count(topics.all)) > 0 and count, 60, "some progress"
    )
    consumer.signal(signal.SIGTERM)
    assert consumer.wait(30) == 0, consumer.log_tail()
    messages = [line["msg"] for line in consumer.logs()]
    assert "stopping after the current batch" in messages
    assert messages[-1] == "stopped cleanly"

    # Stopped mid-stream, and exactly what is in MySQL is committed: no batch half-done.
    done = mysql.processed_count(topics.all)
    assert applied <= done < total, "the test meant to stop the consumer mid-stream"
    committed = assert_commits_follow_mysql(bootstrap, group, mysql, topics.all, exact=True)
    assert sum(committed.values()) == done

    # It left the group on the way out (no session timeout for the next member to wait out).
    admin = AdminClient({"bootstrap.servers": bootstrap})
    description = admin.describe_consumer_groups([group])[group].result(10)
    assert description.state == ConsumerGroupState.EMPTY
    assert not description.members

    # A new member takes over where the first stopped; each event counts once.
    start_consumer()
    wait_for(lambda: mysql.processed_count(topics.all) == total, 90, "the rest applied")
    counters = [mysql.campaign(c) for c in campaigns]
    assert sum(c[0] for c in counters if c is not None) == total
    ends = end_offsets(bootstrap, topics.all)
    wait_for(
        lambda: assert_commits_follow_mysql(bootstrap, group, mysql, topics.all) == ends,
        30,
        "offsets committed to the end",
    )


@pytest.mark.timeout(120)
def test_a_stop_abandons_a_record_by_record_pass_that_outlasts_the_grace(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    """One order, then 60 events that reuse its order id: the batch falls back to record by
    record, and each clash is tried CONSUMER_MAX_ATTEMPTS times with back-off (about a minute in
    all). SIGTERM in that pass stops the consumer within its grace, not at the pass's end, and
    rolls the batch back: nothing in MySQL, no offset committed, so nothing is lost."""
    taken = order_event()
    producer.send(topics.orders, taken, partition=0)
    for _ in range(60):
        producer.send(topics.orders, order_event(order_id=taken.order.order_id), partition=0)
    producer.flush()

    consumer = start_consumer(CONSUMER_STOP_GRACE_S="2", CONSUMER_MAX_ATTEMPTS="8")
    wait_for(
        lambda: any("record by record" in line["msg"] for line in consumer.logs()),
        60,
        "the record-by-record pass",
    )
    consumer.signal(signal.SIGTERM)
    # Far inside the pass's own length (60 records x 8 tries with back-off: over 3 minutes).
    assert consumer.wait(60) == 1, consumer.log_tail()
    messages = [line["msg"] for line in consumer.logs()]
    assert any("last batch unfinished" in m for m in messages), consumer.log_tail()

    assert mysql.processed_count(topics.all) == 0
    assert committed_offsets(bootstrap, group, topics.all) == {}


@pytest.mark.timeout(180)
def test_offsets_a_rebalance_refused_are_committed_once_the_group_settles(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    # One record on every partition, then nothing more: an offset left uncommitted here would
    # stay behind for ever, since no later record on its partition would carry it forward.
    for partition in range(3):
        producer.send(topics.orders, order_event(), partition=partition)
        producer.send(
            topics.events, marketing_event("camp-rebalance", "click"), partition=partition
        )
    producer.flush()
    first = start_consumer(module="tests.services.consumer.commit_in_rebalance")
    wait_for(
        lambda: any(line.get("msg") == "stand-in: first batch held" for line in first.logs()),
        60,
        "the first member to hold its first batch",
    )
    assert mysql.processed_count(topics.all) == 0, "the batch was not held"

    # A second member joins. It is a bare client this test polls itself: until it is polled it
    # cannot take the partitions the first member gives up, so the rebalance's second phase
    # stays open. The first member applies its batch meanwhile and commits; librdkafka holds
    # that commit until the phase ends, then sends it with the generation before it: refused.
    joiner = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "partition.assignment.strategy": "cooperative-sticky",
            "enable.auto.commit": False,
        }
    )
    joiner.subscribe(topics.all)
    try:
        wait_for(
            lambda: json.loads(first.http("/healthz")[1]).get("state") == "committing offsets",
            60,
            "the first member's commit, held while the rebalance is open",
        )
        assert mysql.processed_count(topics.all) == 6
        ends = end_offsets(bootstrap, topics.all)
        assert len(ends) == 6

        def kept_by_the_first_committed() -> bool:
            joiner.poll(0.2)  # the rebalance ends; the joiner takes half the partitions
            taken = {(tp.topic, tp.partition) for tp in joiner.assignment()}
            if not taken:
                return False
            # The first member keeps the other half, read past those records: it must commit
            # them. (The joiner's half is read again from the committed offsets by whoever
            # consumes them next, and skipped as duplicates.)
            kept = {key: end for key, end in ends.items() if key not in taken}
            committed = committed_offsets(bootstrap, group, topics.all)
            return bool(kept) and all(committed.get(key) == end for key, end in kept.items())

        wait_for(
            kept_by_the_first_committed,
            60,
            f"the partitions the first member kept committed to their ends {ends}",
        )
        assert first.metric("platform_consumer_uncommitted_batches_total") >= 1, (
            "the broker accepted the commit: the scenario did not happen"
        )
    finally:
        joiner.close()
    assert mysql.processed_count(topics.all) == 6
