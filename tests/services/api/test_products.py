"""Products: cache-aside reads (Redis, then the MySQL reader) and invalidation on update."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.services.api.conftest import Backends, Catalogue
from tests.services.api.support import ApiClient, unique_sku

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


def test_cache_aside_serves_the_cached_copy_until_a_put_invalidates_it(
    api: ApiClient, backends: Backends, catalogue: Catalogue
) -> None:
    sku = catalogue.stocked
    cache = backends.redis()
    cache.delete(f"product:{sku}")

    first = api.get(f"/v1/products/{sku}")
    assert first.status == 200, first
    assert first.headers["x-cache"] == "miss"
    assert first.json["name"] == "Stocked widget"
    assert first.json["price_cents"] == 1250
    assert 0 < cache.ttl(f"product:{sku}") <= 300  # PRODUCT_CACHE_TTL_S

    # Changed behind the API's back: the cached copy still answers, proving it came from Redis.
    conn = backends.mysql()
    with conn.cursor() as cur:
        cur.execute("UPDATE products SET name = 'Renamed in MySQL' WHERE sku = %s", (sku,))
    conn.close()
    second = api.get(f"/v1/products/{sku}")
    assert second.status == 200, second
    assert second.headers["x-cache"] == "hit"
    assert second.json["name"] == "Stocked widget"

    updated = api.put(
        f"/v1/products/{sku}",
        {"name": "Updated via PUT", "description": "new", "price_cents": 1300, "currency": "EUR"},
    )
    assert updated.status == 200, updated
    assert updated.json["name"] == "Updated via PUT"
    assert cache.exists(f"product:{sku}") == 0  # invalidated

    third = api.get(f"/v1/products/{sku}")
    assert third.headers["x-cache"] == "miss"
    assert (third.json["name"], third.json["price_cents"]) == ("Updated via PUT", 1300)
    assert api.get(f"/v1/products/{sku}").headers["x-cache"] == "hit"
    cache.close()


def test_put_creates_a_product_with_201_then_updates_with_200(
    api: ApiClient, backends: Backends
) -> None:
    sku = unique_sku("NEW")
    body = {"name": "Fresh", "price_cents": 500, "currency": "GBP"}
    created = api.put(f"/v1/products/{sku}", body)
    assert created.status == 201, created
    assert created.json | {"updated_at": None} == {
        "sku": sku,
        "name": "Fresh",
        "description": "",
        "price_cents": 500,
        "currency": "GBP",
        "updated_at": None,
    }
    # An RFC 3339 date-time in UTC, as the OpenAPI document says (schemathesis found it naive).
    updated = dt.datetime.fromisoformat(created.json["updated_at"])
    assert created.json["updated_at"].endswith("Z")
    assert abs((dt.datetime.now(dt.UTC) - updated).total_seconds()) < 120
    assert api.put(f"/v1/products/{sku}", body | {"price_cents": 550}).status == 200
    assert api.get(f"/v1/products/{sku}").json["price_cents"] == 550
    conn = backends.mysql()
    with conn.cursor() as cur:
        cur.execute("DELETE FROM products WHERE sku = %s", (sku,))
    conn.close()


def test_an_unknown_product_is_404_and_nothing_is_cached(
    api: ApiClient, backends: Backends
) -> None:
    sku = unique_sku("ABSENT")
    reply = api.get(f"/v1/products/{sku}")
    assert reply.status == 404, reply
    assert reply.json == {"error": f"product {sku} not found"}
    cache = backends.redis()
    assert cache.exists(f"product:{sku}") == 0
    cache.close()


def test_a_malformed_sku_is_422_naming_the_path_parameter(api: ApiClient) -> None:
    reply = api.get("/v1/products/not_a_sku")
    assert reply.status == 422, reply
    assert [(d["loc"], d["field"]) for d in reply.json["detail"]] == [(["path", "sku"], "sku")]


def test_an_invalid_product_body_is_422_naming_each_field(api: ApiClient) -> None:
    reply = api.put(
        f"/v1/products/{unique_sku()}", {"name": "", "price_cents": -1, "currency": "euro"}
    )
    assert reply.status == 422, reply
    assert reply.json["error"] == "invalid request"
    assert {d["field"] for d in reply.json["detail"]} == {"name", "price_cents", "currency"}
    assert all(d["loc"][0] == "body" and d["msg"] for d in reply.json["detail"])
