"""No record can wedge a partition: each is applied or dead-lettered, and the consumer goes on.

Issue 19 item 3: an ``order.created`` whose ``occurred_at`` is near the end of the datetime range
(``9999-12-31T23:59:59-01:00``) passed validation, then raised ``OverflowError`` while the batch
was applied; the consumer exited before its commit and crashed on the same record after every
restart. The end-to-end test below timed out on that record before the fix.

The property test drives the decode and apply path in process against the real MariaDB with
arbitrary JSON and edge values (Hypothesis), and asserts that each record is applied or
dead-lettered, never an exception out of the path.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from platform_consumer.apply import apply_in_transaction
from platform_consumer.records import KafkaRecord, decode_records
from platform_events.dlq import EXCEPTION_CLASS, ORIGINAL_OFFSET

from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import EventProducer, MySQL, Topics, order_event
from tests.services.consumer.test_dead_letters import headers_of, read_all
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql, pytest.mark.timeout(180)]

EDGE_MOMENTS = [
    "9999-12-31T23:59:59-01:00",  # the one from the issue: no UTC equivalent
    "0001-01-01T00:00:00+01:00",  # the other end
    "0999-12-31T23:59:59Z",  # below MySQL's DATETIME
    "9999-12-31T23:59:59Z",  # the very last storable second
    "1000-01-01T00:00:00Z",  # the very first
    "2026-11-30T12:00:00",  # naive: taken as UTC
]


def _order_json(occurred_at: Any, **order: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": str(uuid.uuid4()),
        "customer_id": "cust-1",
        "currency": "EUR",
        "lines": [{"sku": "SKU-1", "quantity": 1, "unit_price_cents": 100}],
    }
    body.update(order)
    return {
        "type": "order.created",
        "event_id": str(uuid.uuid4()),
        "occurred_at": occurred_at,
        "order": body,
    }


def test_an_order_at_the_end_of_time_is_dead_lettered_and_the_partition_moves_on(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
) -> None:
    before, after = order_event(), order_event()
    producer.send(topics.orders, before, partition=0)
    for moment in EDGE_MOMENTS[:3]:
        value = json.dumps(_order_json(moment)).encode()
        producer.raw(topics.orders, b"edge", value, partition=0)
    producer.send(topics.orders, after, partition=0)
    producer.flush()

    consumer = start_consumer()
    ids = [str(before.order.order_id), str(after.order.order_id)]
    wait_for(lambda: set(mysql.order_counts(ids).values()) == {1}, 60, "good orders applied")
    letters = read_all(bootstrap, topics.dlq(topics.orders), 3)
    assert len(letters) == 3, consumer.log_tail()
    assert sorted(int(headers_of(m)[ORIGINAL_OFFSET]) for m in letters) == [1, 2, 3]
    assert {headers_of(m)[EXCEPTION_CLASS] for m in letters} == {b"pydantic_core.ValidationError"}
    assert consumer.running, consumer.log_tail()


@pytest.fixture(scope="module")
def connection(mysql: MySQL) -> Iterator[Any]:
    import pymysql

    conn = pymysql.connect(
        host=mysql.host,
        port=mysql.port,
        user=mysql.user,
        password=mysql.password,
        database=mysql.database,
        charset="utf8mb4",
        autocommit=False,
    )
    with conn.cursor() as cursor:  # as the consumer sets its session up (db.py)
        cursor.execute("SET time_zone = '+00:00'")
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    conn.commit()
    yield conn
    conn.close()


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_moments = st.sampled_from(EDGE_MOMENTS) | st.datetimes(timezones=st.none() | st.timezones()).map(
    lambda d: d.isoformat()
)
_edge_ints = st.sampled_from([0, 1, -1, 10_000, 10_001, 100_000_000, 2**63 - 1, 2**63, 2**64])
_skus = st.sampled_from(["SKU-1", "A", "Z" * 64, "Z" * 65, "", "sku", "É"]) | st.text(max_size=70)
_lines = st.lists(
    st.fixed_dictionaries({"sku": _skus, "quantity": _edge_ints, "unit_price_cents": _edge_ints}),
    min_size=0,
    max_size=3,
)
_wild_orders = st.builds(
    lambda moment, lines, customer, currency: _order_json(
        moment, lines=lines, customer_id=customer, currency=currency
    ),
    _moments,
    _lines,
    st.sampled_from(["cust-1", "c" * 64, "c" * 65, "ü", ""]) | st.text(max_size=70),
    st.sampled_from(["EUR", "eur", "EURO", ""]),
)
# Orders the contract accepts, but for the edge values: most wild ones never pass decoding.
_valid_orders = st.builds(
    lambda moment, quantities, price: _order_json(
        moment,
        lines=[
            {"sku": f"SKU-{n}", "quantity": q, "unit_price_cents": price}
            for n, q in enumerate(quantities)
        ],
    ),
    _moments,
    st.lists(st.sampled_from([1, 10_000]), min_size=1, max_size=3),
    st.sampled_from([0, 1, 100_000_000]),
)
_orders = _valid_orders | _wild_orders
_marketing = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["impression", "click", "conversion", "other"]),
        "event_id": st.uuids().map(str) | st.text(max_size=40),
        "occurred_at": _moments,
        "campaign_id": st.sampled_from(["camp-1", "x" * 64, "x" * 65]) | st.text(max_size=70),
        "value_cents": _edge_ints,
    }
)
_values = (
    _orders.map(lambda d: json.dumps(d).encode())
    | _marketing.map(lambda d: json.dumps(d).encode())
    | _json.map(lambda d: json.dumps(d).encode())
    | st.binary(max_size=64)
    | st.none()
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=st.lists(_values, min_size=1, max_size=8))
def test_any_record_is_applied_or_dead_lettered_never_a_crash(
    connection: Any, values: list[bytes | None]
) -> None:
    topic = f"t-fuzz-{uuid.uuid4().hex[:8]}"
    records = [KafkaRecord(topic, 0, offset, value, None) for offset, value in enumerate(values)]
    decoded, poison = decode_records(records)
    try:
        result = apply_in_transaction(connection, decoded, max_attempts=2, sleep=lambda _s: None)
    finally:
        connection.rollback()  # nothing left open when the path raised (a failure below)
    assert len(decoded) + len(poison) == len(values)
    assert result.applied + result.duplicates + len(result.failed) == len(decoded)
    failed = {p.record.offset for p in result.failed}
    kept = [item for item in decoded if item.record.offset not in failed]
    if kept:
        ids = sorted({item.event_id for item in kept})
        with connection.cursor() as cursor:
            marks = ",".join(["%s"] * len(ids))
            cursor.execute(
                f"SELECT event_id FROM processed_events WHERE event_id IN ({marks})", ids
            )
            stored = {str(row[0]) for row in cursor.fetchall()}
        connection.commit()
        # Not dead-lettered means applied: now, or before (a repeated event id is skipped).
        assert {item.event_id for item in kept} <= stored
