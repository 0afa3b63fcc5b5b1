"""processed_events is pruned to the redelivery window, and only to it (issue 20, item 5).

The rows are backdated with SQL, so hours of age take no time; the consumer is the real one,
reading its window from the real broker's topic configs.

Rows are pruned oldest first, so the expired rows a test writes are backdated a year: they go
before anything older tests or earlier runs left in the shared table.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import pytest

from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import (
    ConsumerProcess,
    EventProducer,
    MySQL,
    Topics,
    order_event,
)
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql, pytest.mark.timeout(120)]

HOUR_MS = 3_600_000
A_YEAR_MIN = 365 * 24 * 60
#: Rounds every 0.2 s and 7 rows per DELETE: the 40 old rows take several statements.
PRUNE_FAST = {"CONSUMER_PRUNE_INTERVAL_S": "0.2", "CONSUMER_PRUNE_BATCH": "7"}


def set_retention(bootstrap: str, retention_ms: dict[str, int]) -> None:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    resources = [
        ConfigResource(
            "topic",
            topic,
            incremental_configs=[
                ConfigEntry("retention.ms", str(ms), incremental_operation=AlterConfigOpType.SET)
            ],
        )
        for topic, ms in retention_ms.items()
    ]
    for future in admin.incremental_alter_configs(resources).values():
        future.result(20)


def backdated_rows(mysql: MySQL, topic: str, count: int, age_minutes: int) -> list[str]:
    """``count`` processed_events rows ``age_minutes`` old; returns their event ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    values = ", ".join(["(%s, %s, 0, %s, UTC_TIMESTAMP() - INTERVAL %s MINUTE)"] * count)
    args: list[object] = []
    for offset, event_id in enumerate(ids):
        args += [event_id, topic, offset, age_minutes]
    mysql.rows(
        "INSERT INTO processed_events (event_id, topic, kafka_partition, kafka_offset,"
        f" processed_at) VALUES {values}",
        args,
    )
    return ids


def still_there(mysql: MySQL, ids: Sequence[str]) -> int:
    marks = ", ".join(["%s"] * len(ids))
    rows = mysql.rows(f"SELECT COUNT(*) FROM processed_events WHERE event_id IN ({marks})", ids)
    return int(rows[0][0])


def retention_logged(consumer: ConsumerProcess) -> dict[str, object]:
    lines = [line for line in consumer.logs() if line.get("msg") == "processed_events retention"]
    assert lines, consumer.log_tail()
    return lines[-1]


def test_rows_outliving_the_topics_retention_are_pruned_and_the_rest_kept(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
) -> None:
    # Orders are kept 1 h, marketing events 2 h: a redelivery can be up to 2 h old.
    set_retention(bootstrap, {topics.orders: HOUR_MS, topics.events: 2 * HOUR_MS})
    expired = backdated_rows(mysql, topics.orders, 40, age_minutes=A_YEAR_MIN)
    inside = backdated_rows(mysql, topics.orders, 40, age_minutes=90)  # past 1 h, inside 2 h
    fresh = [order_event() for _ in range(5)]
    producer.send_all(topics.orders, fresh)

    consumer = start_consumer(**PRUNE_FAST)
    wait_for(lambda: still_there(mysql, expired) == 0, 60, "the expired rows pruned")

    window = retention_logged(consumer)
    assert window["seconds"] == 2 * 3600, window
    assert "retention.ms" in str(window["source"]), window
    assert still_there(mysql, inside) == len(inside)
    wait_for(lambda: mysql.processed_count([topics.orders]) >= len(inside) + 5, 60, "applied")
    assert still_there(mysql, [str(e.event_id) for e in fresh]) == len(fresh)
    assert consumer.metric("platform_consumer_processed_events_pruned_total") >= len(expired)
    assert consumer.metric("platform_consumer_prune_failures_total") == 0

    # A redelivered event inside the window is still skipped after pruning rounds ran.
    producer.send_all(topics.orders, fresh[:1])
    wait_for(
        lambda: consumer.metric("platform_consumer_duplicates_skipped_total") >= 1,
        60,
        "the redelivery skipped",
    )
    assert mysql.order_counts([str(fresh[0].order.order_id)]) == {str(fresh[0].order.order_id): 1}


def test_a_window_shorter_than_the_topics_retention_is_honoured_with_a_warning(
    start_consumer: StartConsumer, topics: Topics, mysql: MySQL
) -> None:
    # The topics keep the broker's default (7 days); the operator asks for 1 h.
    expired = backdated_rows(mysql, topics.orders, 20, age_minutes=A_YEAR_MIN)
    inside = backdated_rows(mysql, topics.orders, 20, age_minutes=55)

    consumer = start_consumer(CONSUMER_DEDUPE_RETENTION_S="3600", **PRUNE_FAST)
    wait_for(lambda: still_there(mysql, expired) == 0, 60, "rows older than 1 h pruned")

    assert still_there(mysql, inside) == len(inside)
    assert retention_logged(consumer)["seconds"] == 3600
    warnings = [line for line in consumer.logs() if "apply events twice" in str(line.get("msg"))]
    assert warnings, consumer.log_tail()
    assert warnings[0]["topic_retention_s"] == 7 * 24 * 3600, warnings[0]
