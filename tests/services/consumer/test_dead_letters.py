"""Poison records go to ``<topic>.dlq`` unchanged, with every documented header; the rest flows."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from platform_events import OrderCreated
from platform_events.dlq import (
    ATTEMPTS,
    CONSUMER_GROUP,
    DLQ_HEADERS,
    EXCEPTION_CLASS,
    EXCEPTION_MESSAGE,
    FAILED_AT,
    ORIGINAL_OFFSET,
    ORIGINAL_PARTITION,
    ORIGINAL_TIMESTAMP,
    ORIGINAL_TOPIC,
)
from platform_events.models import encode_event

from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import (
    EventProducer,
    MySQL,
    Topics,
    committed_offsets,
    end_offsets,
    marketing_event,
    order_event,
)
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql, pytest.mark.timeout(120)]


def read_all(bootstrap: str, topic: str, count: int, timeout: float = 30) -> list[Any]:
    from confluent_kafka import Consumer

    reader = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"t-reader-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    reader.subscribe([topic])
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    try:
        while len(records) < count and time.monotonic() < deadline:
            message = reader.poll(0.5)
            if message is not None and message.error() is None:
                records.append(message)
        # Anything beyond ``count`` would be a duplicate dead letter: give it a moment to show.
        extra_deadline = time.monotonic() + 2
        while time.monotonic() < extra_deadline:
            message = reader.poll(0.5)
            if message is not None and message.error() is None:
                records.append(message)
    finally:
        reader.close()
    return records


def headers_of(message: Any) -> dict[str, bytes]:
    return dict(message.headers() or [])


@dataclass(frozen=True)
class Scenario:
    """On one partition, in order: good, bad JSON, invalid order, good, clashing, good."""

    good_orders: list[OrderCreated]
    clash: OrderCreated
    invalid_value: bytes
    campaign: str


BAD_JSON_KEY = b"order-bad-json"
BAD_JSON = b'{"type": "order.created", not json'
ORIGINAL_TS = 1_700_000_000_123


def produce_scenario(producer: EventProducer, topics: Topics) -> Scenario:
    before, taken, after = order_event(), order_event(), order_event()
    # A well-formed record whose order breaks the model: quantity 0 is not allowed.
    invalid = order_event().model_dump(mode="json")
    invalid["order"]["lines"][0]["quantity"] = 0
    invalid_value = json.dumps(invalid).encode()
    # A valid event whose order id another event took: the database refuses it (duplicate
    # key) when the batch is applied record by record, after CONSUMER_MAX_ATTEMPTS tries.
    clash = order_event(order_id=taken.order.order_id)
    campaign = f"camp-dlq-{topics.events[-10:]}"

    producer.send(topics.orders, before, partition=0)
    producer.raw(
        topics.orders,
        BAD_JSON_KEY,
        BAD_JSON,
        headers=[("trace-id", b"abc123"), ("event-type", b"order.created")],
        timestamp=ORIGINAL_TS,
        partition=0,
    )
    producer.raw(
        topics.orders, b"order-invalid", invalid_value, [("trace-id", b"def")], partition=0
    )
    producer.send(topics.orders, taken, partition=0)
    producer.send(topics.orders, clash, partition=0)
    producer.send(topics.orders, after, partition=0)
    producer.raw(topics.events, campaign.encode(), None, partition=0)  # a tombstone: no event
    producer.send(topics.events, marketing_event(campaign, "impression"), partition=0)
    producer.flush()
    return Scenario([before, taken, after], clash, invalid_value, campaign)


def test_poison_records_are_dead_lettered_and_the_rest_applied(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    scenario = produce_scenario(producer, topics)
    start_consumer(CONSUMER_MAX_ATTEMPTS="3", CONSUMER_BATCH_SIZE="100")

    good = scenario.good_orders
    wait_for(
        lambda: mysql.processed_count(topics.all) == len(good) + 1, 60, "the good events applied"
    )
    assert set(mysql.order_counts([str(e.order.order_id) for e in good]).values()) == {1}
    assert mysql.campaign(scenario.campaign) == (1, 0, 0, 0)
    # The refused event left nothing behind; the order it clashed with is intact.
    clash = scenario.clash
    assert mysql.rows(
        "SELECT COUNT(*) FROM processed_events WHERE event_id = %s", (str(clash.event_id),)
    ) == [(0,)]
    assert mysql.rows(
        "SELECT COUNT(*) FROM order_lines WHERE order_id = %s", (str(clash.order.order_id),)
    ) == [(2,)]

    orders_dlq = read_all(bootstrap, topics.dlq(topics.orders), 3)
    events_dlq = read_all(bootstrap, topics.dlq(topics.events), 1)
    assert len(orders_dlq) == 3, "each poison order is dead-lettered once"
    assert len(events_dlq) == 1
    for message in [*orders_dlq, *events_dlq]:
        headers = headers_of(message)
        missing = [name for name in DLQ_HEADERS if name not in headers]
        assert not missing, f"dead letter lacks {missing}"
        assert headers[CONSUMER_GROUP] == group.encode()
        assert int(headers[FAILED_AT]) > 0
        assert headers[ORIGINAL_PARTITION] == b"0"

    by_value = {m.value(): m for m in orders_dlq}
    assert_decode_failures(by_value, scenario, topics)
    assert_database_refusal(by_value[encode_event(clash)], clash)
    assert_positions_point_back(bootstrap, topics.orders, orders_dlq)

    tombstone = events_dlq[0]
    assert tombstone.value() is None
    assert tombstone.key() == scenario.campaign.encode()
    assert headers_of(tombstone)[EXCEPTION_CLASS] == b"platform_consumer.records.EmptyRecordError"
    assert headers_of(tombstone)[ATTEMPTS] == b"1"

    # Poison records are done: their offsets are committed with their batch.
    ends = end_offsets(bootstrap, topics.all)
    wait_for(
        lambda: committed_offsets(bootstrap, group, topics.all) == ends,
        30,
        "offsets past the poison records",
    )


def assert_decode_failures(by_value: dict[bytes, Any], scenario: Scenario, topics: Topics) -> None:
    bad = by_value[BAD_JSON]
    headers = headers_of(bad)
    assert bad.key() == BAD_JSON_KEY
    assert bad.timestamp()[1] == ORIGINAL_TS
    assert headers["trace-id"] == b"abc123"  # the original headers are kept
    assert headers["event-type"] == b"order.created"
    assert headers[ORIGINAL_TOPIC] == topics.orders.encode()
    assert headers[ORIGINAL_TIMESTAMP] == str(ORIGINAL_TS).encode()
    assert headers[EXCEPTION_CLASS] == b"pydantic_core.ValidationError"
    assert b"json" in headers[EXCEPTION_MESSAGE].lower()
    assert headers[ATTEMPTS] == b"1"

    invalid = by_value[scenario.invalid_value]
    headers = headers_of(invalid)
    assert invalid.key() == b"order-invalid"
    assert headers["trace-id"] == b"def"
    assert headers[EXCEPTION_CLASS] == b"pydantic_core.ValidationError"
    assert b"quantity" in headers[EXCEPTION_MESSAGE]
    assert headers[ATTEMPTS] == b"1"


def assert_database_refusal(letter: Any, clash: OrderCreated) -> None:
    headers = headers_of(letter)
    assert letter.key() == str(clash.order.order_id).encode()
    assert headers["event-id"] == str(clash.event_id).encode()
    assert headers[EXCEPTION_CLASS] == b"pymysql.err.IntegrityError"
    assert b"Duplicate entry" in headers[EXCEPTION_MESSAGE]
    assert headers[ATTEMPTS] == b"3"


def assert_positions_point_back(bootstrap: str, topic: str, letters: list[Any]) -> None:
    """original-partition/offset name the poison record itself."""
    from confluent_kafka import TopicPartition

    for letter in letters:
        headers = headers_of(letter)
        position = TopicPartition(
            topic, int(headers[ORIGINAL_PARTITION]), int(headers[ORIGINAL_OFFSET])
        )
        original = _read_at(bootstrap, position)
        assert (original.key(), original.value()) == (letter.key(), letter.value())


def _read_at(bootstrap: str, tp: Any) -> Any:
    from confluent_kafka import Consumer

    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex[:8]}"})
    try:
        reader.assign([tp])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            message = reader.poll(0.5)
            if message is not None and message.error() is None:
                return message
    finally:
        reader.close()
    raise AssertionError(f"nothing at {tp}")
