"""Orders: priced from the catalogue, accepted only once the broker has the record, and one
order per Idempotency-Key however often it is sent (issue 19 items 2 and 9)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from platform_events import OrderCreated, decode_event

from tests.services.api.conftest import Backends, Catalogue
from tests.services.api.support import ApiClient, TopicRecord, records_on, unique_id

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


JSON = {"Content-Type": "application/json"}


def an_order(customer_id: str | None = None, **changes: Any) -> dict[str, Any]:
    """SKU-A and SKU-B are in the catalogue at 1250 and 999 cents (conftest.PRICE_LIST)."""
    return {
        "customer_id": unique_id("cust") if customer_id is None else customer_id,
        "currency": "EUR",
        "lines": [{"sku": "SKU-A", "quantity": 2}, {"sku": "SKU-B", "quantity": 1}],
    } | changes


def orders_of(backends: Backends, customer_id: str) -> list[tuple[TopicRecord, OrderCreated]]:
    found = []
    for record in records_on(backends.bootstrap, backends.orders_topic):
        event = decode_event(record.value)
        assert isinstance(event, OrderCreated)
        if event.order.customer_id == customer_id:
            found.append((record, event))
    return found


def test_an_accepted_order_is_on_the_topic_keyed_by_its_id_at_catalogue_prices(
    api: ApiClient, backends: Backends
) -> None:
    order = an_order()
    reply = api.order(order)
    assert reply.status == 202, reply
    assert reply.json == {
        "order_id": reply.json["order_id"],
        "event_id": reply.json["event_id"],
        "status": "accepted",
        "total_cents": 3499,
        "currency": "EUR",
    }

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


def test_a_client_cannot_set_a_price(api: ApiClient, backends: Backends) -> None:
    """Before the fix: 10,000 items at 0 cents were accepted with 202."""
    order = an_order(lines=[{"sku": "SKU-A", "quantity": 10_000, "unit_price_cents": 0}])
    reply = api.order(order)
    assert reply.status == 422, reply
    assert {d["field"] for d in reply.json["detail"]} == {"lines.0.unit_price_cents"}
    assert orders_of(backends, order["customer_id"]) == []


def test_an_unknown_sku_is_422_naming_it(api: ApiClient, backends: Backends) -> None:
    missing = f"NOPE-{uuid.uuid4().hex[:8].upper()}"
    order = an_order(lines=[{"sku": "SKU-A", "quantity": 1}, {"sku": missing, "quantity": 1}])
    reply = api.order(order)
    assert reply.status == 422, reply
    assert reply.json["skus"] == [missing]
    assert orders_of(backends, order["customer_id"]) == []


def test_a_product_sold_in_another_currency_is_422(api: ApiClient, catalogue: Catalogue) -> None:
    reply = api.order(an_order(lines=[{"sku": catalogue.bare, "quantity": 1}]))  # in USD
    assert reply.status == 422, reply
    assert reply.json["skus"] == [catalogue.bare]


def test_a_new_price_applies_to_the_next_order(api: ApiClient, backends: Backends) -> None:
    sku = f"PRICE-{uuid.uuid4().hex[:8].upper()}"
    assert (
        api.put(f"/v1/products/{sku}", {"name": "p", "price_cents": 500, "currency": "EUR"}).status
        == 201
    )
    first = api.order(an_order(lines=[{"sku": sku, "quantity": 2}]))
    assert first.json["total_cents"] == 1000, first  # priced through the cache, now filled
    assert (
        api.put(f"/v1/products/{sku}", {"name": "p", "price_cents": 700, "currency": "EUR"}).status
        == 200
    )
    second = api.order(an_order(lines=[{"sku": sku, "quantity": 2}]))
    assert second.json["total_cents"] == 1400, second


def test_an_order_without_an_idempotency_key_is_400(api: ApiClient, backends: Backends) -> None:
    """Before the fix a keyless order was accepted, and a retry after a 503 made a second one."""
    order = an_order()
    reply = api.post("/v1/orders", order)
    assert reply.status == 400, reply
    assert reply.json["header"] == "Idempotency-Key"
    assert orders_of(backends, order["customer_id"]) == []


def test_a_repeated_idempotency_key_replays_the_first_answer_and_publishes_once(
    api: ApiClient, backends: Backends
) -> None:
    order = an_order()
    key = str(uuid.uuid4())
    first = api.order(order, key)
    again = api.order(order, key)
    assert first.status == again.status == 202, (first, again)
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    assert "idempotent-replayed" not in first.headers

    published = orders_of(backends, order["customer_id"])
    assert [str(event.order.order_id) for _, event in published] == [first.json["order_id"]]


def test_the_key_is_durable_in_mysql_not_in_redis(api: ApiClient, backends: Backends) -> None:
    """Before the fix the key lived in Redis under volatile-lru: evicted (here: flushed), a
    retry made a second order."""
    order = an_order()
    key = str(uuid.uuid4())
    first = api.order(order, key)
    assert first.status == 202, first
    client = backends.redis()
    for name in client.scan_iter(match="idempotency:*"):
        client.delete(name)
    client.close()
    again = api.order(order, key)
    assert again.status == 202, again
    assert again.json["order_id"] == first.json["order_id"]
    conn = backends.mysql()
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT event_id, status FROM idempotency_keys WHERE idem_key = %s", (key,))
            assert cur.fetchall() == ((first.json["event_id"], 202),)
    finally:
        conn.close()


def test_an_unanswered_key_publishes_the_same_event_again(
    api: ApiClient, backends: Backends
) -> None:
    """A 503 whose record landed after all (or an answer that could not be stored), then a
    retry: the retry publishes the very same event, which the consumer applies once."""
    order = an_order()
    key = str(uuid.uuid4())
    first = api.order(order, key)
    assert first.status == 202, first
    conn = backends.mysql()
    try:
        with conn.cursor() as cur:  # as if the answer had never been stored
            cur.execute(
                "UPDATE idempotency_keys SET status = NULL, response = NULL WHERE idem_key = %s",
                (key,),
            )
    finally:
        conn.close()
    again = api.order(order, key)
    assert again.status == 202, again
    assert again.json == first.json
    published = orders_of(backends, order["customer_id"])
    assert len(published) == 2
    assert {record.value for record, _ in published} == {published[0][0].value}
    assert {str(event.event_id) for _, event in published} == {first.json["event_id"]}


def test_racing_requests_with_one_key_make_one_order(api: ApiClient, backends: Backends) -> None:
    order = an_order()
    key = str(uuid.uuid4())

    async def race() -> list[Any]:
        return await asyncio.gather(*(asyncio.to_thread(api.order, order, key) for _ in range(8)))

    replies = asyncio.run(race())
    assert {r.status for r in replies} == {202}, replies
    assert len({r.json["order_id"] for r in replies}) == 1
    published = orders_of(backends, order["customer_id"])
    assert {str(event.event_id) for _, event in published} == {replies[0].json["event_id"]}


def test_a_key_reused_for_another_order_is_422(api: ApiClient) -> None:
    key = str(uuid.uuid4())
    assert api.order(an_order(), key).status == 202
    reply = api.order(an_order(), key)
    assert reply.status == 422, reply
    assert reply.json["header"] == "Idempotency-Key"


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_a_malformed_idempotency_key_is_400(api: ApiClient, key: str) -> None:
    reply = api.order(an_order(), key)
    assert reply.status == 400, reply
    assert reply.json["header"] == "Idempotency-Key"


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"currency": "eur"}, {"currency"}),
        ({"customer_id": ""}, {"customer_id"}),
        ({"lines": []}, {"lines"}),
        (
            {"lines": [{"sku": "bad sku", "quantity": 0}]},
            {"lines.0.sku", "lines.0.quantity"},
        ),
        ({"order_id": str(uuid.uuid4())}, {"order_id"}),  # the API makes the id
    ],
)
def test_an_invalid_order_is_422_naming_each_field(
    api: ApiClient, changes: dict[str, Any], fields: set[str]
) -> None:
    reply = api.order(an_order(**changes))
    assert reply.status == 422, reply
    assert {d["field"] for d in reply.json["detail"]} == fields


def test_the_contract_rules_apply_to_the_order_as_a_whole(api: ApiClient) -> None:
    line = {"sku": "SKU-A", "quantity": 1}
    reply = api.order(an_order(lines=[line, line]))
    assert reply.status == 422, reply
    [problem] = reply.json["detail"]
    assert problem["loc"] == ["body"]
    assert "each sku appears once" in problem["msg"]


def test_a_body_that_is_not_json_is_422(api: ApiClient) -> None:
    reply = api.request(
        "POST",
        "/v1/orders",
        raw=b'{"customer_id": "c-1", "lines": [',
        headers=JSON | {"Idempotency-Key": "k-json"},
    )
    assert reply.status == 422, reply
    [problem] = reply.json["detail"]
    assert problem["type"] == "json_invalid", problem


def test_an_empty_body_is_422(api: ApiClient) -> None:
    reply = api.request("POST", "/v1/orders", body=None, headers=JSON | {"Idempotency-Key": "k-e"})
    assert reply.status == 422, reply
