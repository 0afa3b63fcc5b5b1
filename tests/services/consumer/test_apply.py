"""Events produced to the real broker end up in MariaDB: rows, counters, each exactly once."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import (
    ConsumerProcess,
    EventProducer,
    MySQL,
    Topics,
    assert_commits_follow_mysql,
    end_offsets,
    marketing_event,
    order_event,
)
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql, pytest.mark.timeout(120)]


def test_orders_and_marketing_events_are_applied(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    orders = [order_event() for _ in range(40)]
    big = order_event(lines=[("A-1", 3, 100), ("B-2", 2, 2500), ("C-3", 1, 1)])
    campaign_a = f"camp-a-{topics.events[-10:]}"
    campaign_b = f"camp-b-{topics.events[-10:]}"
    marketing = (
        [marketing_event(campaign_a, "impression") for _ in range(120)]
        + [marketing_event(campaign_a, "click") for _ in range(30)]
        + [marketing_event(campaign_a, "conversion", value_cents=1999) for _ in range(7)]
        + [marketing_event(campaign_b, "impression") for _ in range(5)]
        + [marketing_event(campaign_b, "conversion", value_cents=50) for _ in range(2)]
    )
    producer.send_all(topics.orders, [*orders, big])
    producer.send_all(topics.events, marketing)
    total = len(orders) + 1 + len(marketing)

    consumer = start_consumer(CONSUMER_BATCH_SIZE="50")
    wait_for(lambda: mysql.processed_count(topics.all) == total, 60, "every event applied")

    counts = mysql.order_counts([str(o.order.order_id) for o in [*orders, big]])
    assert set(counts.values()) == {1}
    row = mysql.rows(
        "SELECT customer_id, status, total_cents, currency, created_at FROM orders"
        " WHERE order_id = %s",
        (str(big.order.order_id),),
    )
    assert row == [
        ("cust-42", "created", 3 * 100 + 2 * 2500 + 1, "EUR", datetime(2026, 11, 25, 10, 30, 15))
    ]
    lines = mysql.rows(
        "SELECT line_no, sku, quantity, unit_price_cents FROM order_lines"
        " WHERE order_id = %s ORDER BY line_no",
        (str(big.order.order_id),),
    )
    assert lines == [(1, "A-1", 3, 100), (2, "B-2", 2, 2500), (3, "C-3", 1, 1)]

    assert mysql.campaign(campaign_a) == (120, 30, 7, 7 * 1999)
    assert mysql.campaign(campaign_b) == (5, 0, 2, 100)

    # processed_events says where each event came from.
    where = mysql.rows(
        "SELECT topic, kafka_partition, kafka_offset FROM processed_events WHERE event_id = %s",
        (str(big.event_id),),
    )
    assert len(where) == 1
    assert where[0][0] == topics.orders

    # Offsets reach the end of every partition, and never run ahead of MySQL.
    ends = end_offsets(bootstrap, topics.all)
    wait_for(
        lambda: assert_commits_follow_mysql(bootstrap, group, mysql, topics.all) == ends,
        30,
        "offsets committed to the end",
    )
    assert consumer.metric("platform_consumer_events_applied_total") == total
    assert consumer.metric("platform_consumer_records_consumed_total") == total


def test_the_same_event_twice_is_applied_once(
    start_consumer: StartConsumer, producer: EventProducer, topics: Topics, mysql: MySQL
) -> None:
    campaign = f"camp-dup-{topics.events[-10:]}"
    click = marketing_event(campaign, "click")
    conversion = marketing_event(campaign, "conversion", value_cents=500)
    order = order_event()
    # Twice back to back (one batch), then once more after it was applied (a later batch).
    producer.send_all(topics.events, [click, click, conversion, conversion])
    producer.send_all(topics.orders, [order, order])

    consumer = start_consumer()
    wait_for(lambda: mysql.processed_count(topics.all) == 3, 60, "three distinct events applied")
    wait_for(
        lambda: consumer.metric("platform_consumer_duplicates_skipped_total") >= 3,
        30,
        "the in-batch duplicates counted",
    )

    producer.send_all(topics.events, [click, conversion])
    producer.send_all(topics.orders, [order])
    wait_for(
        lambda: consumer.metric("platform_consumer_duplicates_skipped_total") >= 6,
        30,
        "the redelivered events skipped",
    )
    assert mysql.campaign(campaign) == (0, 1, 1, 500)
    assert mysql.order_counts([str(order.order.order_id)]) == {str(order.order.order_id): 1}
    assert mysql.rows(
        "SELECT COUNT(*) FROM order_lines WHERE order_id = %s", (str(order.order.order_id),)
    ) == [(2,)]
    assert mysql.processed_count(topics.all) == 3
    assert consumer.metric("platform_consumer_events_applied_total") == 3


def test_metrics_and_healthz_answer(start_consumer: StartConsumer, mysql: MySQL) -> None:
    consumer = start_consumer()
    status, body = wait_for(
        lambda: consumer.http("/healthz") if _answers(consumer) else None, 30, "/healthz"
    )
    assert status == 200
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["last_poll_age_s"] < 30

    status, metrics = consumer.http("/metrics")
    assert status == 200
    for name in (
        "platform_consumer_records_consumed_total",
        "platform_consumer_events_applied_total",
        "platform_consumer_duplicates_skipped_total",
        "platform_consumer_dead_lettered_total",
        "platform_consumer_batch_duration_seconds_bucket",
        "platform_consumer_last_commit_timestamp_seconds",
        "platform_consumer_db_retries_total",
        "process_cpu_seconds_total",
    ):
        assert name in metrics, name
    assert consumer.http("/nope")[0] == 404


def _answers(consumer: ConsumerProcess) -> bool:
    try:
        consumer.http("/healthz", timeout=1)
    except OSError:
        return False
    return True
