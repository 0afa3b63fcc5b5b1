"""Orders: accepted only once the broker has the record, and at most once per Idempotency-Key."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from platform_events import OrderCreated, decode_event

from tests.services.api.conftest import Backends
from tests.services.api.support import ApiClient, TopicRecord, records_on, unique_id

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


JSON = {"Content-Type": "application/json"}


def an_order(customer_id: str | None = None, **changes: Any) -> dict[str, Any]:
    return {
        "customer_id": unique_id("cust") if customer_id is None else customer_id,
        "currency": "EUR",
        "lines": [
            {"sku": "SKU-A", "quantity": 2, "unit_price_cents": 1250},
            {"sku": "SKU-B", "quantity": 1, "unit_price_cents": 999},
        ],
    } | changes


def orders_of(backends: Backends, customer_id: str) -> list[tuple[TopicRecord, OrderCreated]]:
    found = []
    for record in records_on(backends.bootstrap, backends.orders_topic):
        event = decode_event(record.value)
        assert isinstance(event, OrderCreated)
        if event.order.customer_id == customer_id:
            found.append((record, event))
    return found


def test_an_accepted_order_is_on_the_topic_keyed_by_its_id(
    api: ApiClient, backends: Backends
) -> None:
    order = an_order()
    reply = api.post("/v1/orders", order)
    assert reply.status == 202, reply
    assert set(reply.json) == {"order_id", "event_id", "status"}
    assert reply.json["status"] == "accepted"

    [(record, event)] = orders_of(backends, order["customer_id"])
    assert record.key == reply.json["order_id"].encode()
    assert record.headers == {
        "event-type": b"order.created",
        "event-id": reply.json["event_id"].encode(),
        "content-type": b"application/json",
    }
    assert str(event.order.order_id) == reply.json["order_id"]
    assert str(event.event_id) == reply.json["event_id"]
    assert event.occurred_at.utcoffset() is not None
    assert event.order.currency == "EUR"
    assert [(line.sku, line.quantity, line.unit_price_cents) for line in event.order.lines] == [
        ("SKU-A", 2, 1250),
        ("SKU-B", 1, 999),
    ]
    assert event.order.total_cents == 3499


def test_a_repeated_idempotency_key_replays_the_first_answer_and_publishes_once(
    api: ApiClient, backends: Backends
) -> None:
    order = an_order()
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/v1/orders", order, headers=key)
    again = api.post("/v1/orders", order, headers=key)
    assert first.status == again.status == 202, (first, again)
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers

    published = orders_of(backends, order["customer_id"])
    assert [str(event.order.order_id) for _, event in published] == [first.json["order_id"]]


def test_without_a_key_each_post_is_a_new_order(api: ApiClient, backends: Backends) -> None:
    order = an_order()
    ids = {api.post("/v1/orders", order).json["order_id"] for _ in range(2)}
    assert len(ids) == 2
    assert {str(e.order.order_id) for _, e in orders_of(backends, order["customer_id"])} == ids


def test_a_key_reused_for_another_order_is_422(api: ApiClient) -> None:
    key = {"Idempotency-Key": str(uuid.uuid4())}
    assert api.post("/v1/orders", an_order(), headers=key).status == 202
    reply = api.post("/v1/orders", an_order(), headers=key)
    assert reply.status == 422, reply
    assert reply.json["header"] == "Idempotency-Key"


def test_a_duplicate_while_the_first_is_in_flight_is_409(
    api: ApiClient, backends: Backends
) -> None:
    """Another replica holds the key (reserved through the same store, in the same Redis)."""
    import redis.asyncio as aioredis
    from platform_api.idempotency import IdempotencyStore, Reservation, fingerprint
    from platform_api.schemas import OrderInput

    order = an_order()
    key = str(uuid.uuid4())

    async def while_reserved() -> tuple[Any, Any]:
        client = aioredis.Redis.from_url(backends.redis_url)
        try:
            store = IdempotencyStore(client, ttl_s=600)
            request = OrderInput.model_validate(order).model_dump(mode="json")
            held = await store.reserve("orders", key, fingerprint(request))
            assert isinstance(held, Reservation)
            headers = {"Idempotency-Key": key}
            duplicate = await asyncio.to_thread(api.post, "/v1/orders", order, headers)
            await store.release(held)  # the other request failed: nothing was published
            return duplicate, await asyncio.to_thread(orders_of, backends, order["customer_id"])
        finally:
            await client.aclose()

    reply, published = asyncio.run(while_reserved())
    assert reply.status == 409, reply
    assert reply.headers["retry-after"] == "1"
    assert published == []

    # Released (the other request failed): the key starts afresh.
    assert api.post("/v1/orders", order, headers={"Idempotency-Key": key}).status == 202


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_400(api: ApiClient, key: str) -> None:
    reply = api.post("/v1/orders", an_order(), headers={"Idempotency-Key": key})
    assert reply.status == 400, reply
    assert reply.json["header"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"currency": "eur"}, {"currency"}),
        ({"customer_id": ""}, {"customer_id"}),
        ({"lines": []}, {"lines"}),
        (
            {"lines": [{"sku": "bad sku", "quantity": 0, "unit_price_cents": -5}]},
            {"lines.0.sku", "lines.0.quantity", "lines.0.unit_price_cents"},
        ),
        ({"order_id": str(uuid.uuid4())}, {"order_id"}),  # the API makes the id
    ],
)
def test_an_invalid_order_is_422_naming_each_field(
    api: ApiClient, changes: dict[str, Any], fields: set[str]
) -> None:
    reply = api.post("/v1/orders", an_order(**changes))
    assert reply.status == 422, reply
    assert {d["field"] for d in reply.json["detail"]} == fields


def test_the_contract_rules_apply_to_the_order_as_a_whole(api: ApiClient) -> None:
    line = {"sku": "SKU-A", "quantity": 1, "unit_price_cents": 1}
    reply = api.post("/v1/orders", an_order(lines=[line, line]))
    assert reply.status == 422, reply
    [problem] = reply.json["detail"]
    assert problem["loc"] == ["body"]
    assert "each sku appears once" in problem["msg"]


def test_a_body_that_is_not_json_is_422(api: ApiClient) -> None:
    reply = api.request(
        "POST", "/v1/orders", raw=b'{"customer_id": "c-1", "lines": [', headers=JSON
    )
    assert reply.status == 422, reply
    [problem] = reply.json["detail"]
    assert problem["type"] == "json_invalid", problem


def test_an_empty_body_is_422(api: ApiClient) -> None:
    reply = api.request("POST", "/v1/orders", body=None, headers=JSON)
    assert reply.status == 422, reply
