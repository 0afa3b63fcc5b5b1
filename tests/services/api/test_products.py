"""Products: cache-aside reads (Redis, then the MySQL reader), written through on update."""

from __future__ import annotations

import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import replica_admin
from tests.services.api.conftest import Backends, Catalogue
from tests.services.api.support import ApiClient, running_api, unique_sku
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


def test_cache_aside_serves_the_cached_copy_until_a_put_replaces_it(
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
    assert json.loads(cache.get(f"product:{sku}")) == updated.json  # the update's own copy
    assert 0 < cache.ttl(f"product:{sku}") <= 300

    third = api.get(f"/v1/products/{sku}")
    assert third.headers["x-cache"] == "hit"
    assert (third.json["name"], third.json["price_cents"]) == ("Updated via PUT", 1300)
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


def test_an_update_is_served_at_once_while_the_replica_lags(
    api: ApiClient, backends: Backends, stopped_sql_thread: None
) -> None:
    """The replica applies nothing while its SQL thread is stopped: reads that went to it would
    still see the old price (or no product at all), yet the update is what the API serves."""
    sku = unique_sku("LAG")
    body = {"name": "Lagging", "price_cents": 500, "currency": "GBP"}
    assert api.put(f"/v1/products/{sku}", body).status == 201
    assert api.get(f"/v1/products/{sku}").json["price_cents"] == 500
    assert api.put(f"/v1/products/{sku}", body | {"price_cents": 550}).status == 200
    reply = api.get(f"/v1/products/{sku}")
    assert (reply.status, reply.json["price_cents"]) == (200, 550)


def test_a_read_that_raced_an_update_does_not_cache_the_old_row(
    api: ApiClient, backends: Backends
) -> None:
    """A read misses the cache and asks the replica, which still holds the old price; the update
    lands and stores its copy before that read's answer comes back. The read may answer the old
    price (it began first), but its fill must not replace the update's copy, or the old price
    would be served, and charged, for the whole TTL. A table lock on the replica holds the read
    at that point; the API gives a replica 0.5 s, so a scenario that outran it is tried again."""
    sku, cache = unique_sku("RACE"), backends.redis()
    env, app = backends.env, backends.app
    price = 1250
    body = {"name": "Raced", "price_cents": price, "currency": "EUR"}
    assert api.put(f"/v1/products/{sku}", body).status == 201
    wait_for(lambda: _replica_price(backends, sku) == price, 30, "the replica to have the product")
    with ThreadPoolExecutor(1) as reads:
        for _ in range(5):
            cache.delete(f"product:{sku}")
            with replica_admin(env, app) as admin:
                admin.cursor().execute(f"LOCK TABLES {env.mysql.database}.products WRITE")
                read = reads.submit(api.get, f"/v1/products/{sku}")
                wait_for(lambda: _waiting_on_products(admin), 10, "a read waiting on the replica")
                price += 1
                update = api.put(f"/v1/products/{sku}", body | {"price_cents": price})
                admin.cursor().execute("UNLOCK TABLES")
            assert update.status == 200, update
            if read.result(10).status == 200:
                break
        else:
            pytest.fail("five reads gave up on the locked replica before the update was answered")
    assert json.loads(cache.get(f"product:{sku}"))["price_cents"] == price
    reply = api.get(f"/v1/products/{sku}")
    assert (reply.headers["x-cache"], reply.json["price_cents"]) == ("hit", price)
    cache.close()


def test_racing_updates_of_one_product_leave_the_last_committed_copy_cached(
    api: ApiClient, backends: Backends
) -> None:
    """Updates of one SKU sent together: the copy in Redis is the row MySQL committed last.
    Before, each update wrote its copy after its own commit, in no particular order, so an
    update that committed first but wrote its copy last left an old price cached for the
    whole TTL, and orders were priced at it."""
    sku, cache = unique_sku("PUTS"), backends.redis()
    body = {"name": "Raced updates", "price_cents": 1000, "currency": "EUR"}
    assert api.put(f"/v1/products/{sku}", body).status == 201
    conn = backends.mysql()
    with ThreadPoolExecutor(8) as pool:
        for round_ in range(20):
            prices = [2000 + 10 * round_ + n for n in range(8)]
            replies = list(
                pool.map(
                    lambda p: api.put(f"/v1/products/{sku}", body | {"price_cents": p}), prices
                )
            )
            assert all(r.status == 200 for r in replies), replies
            with conn.cursor() as cur:
                cur.execute("SELECT price_cents FROM products WHERE sku = %s", (sku,))
                committed = cur.fetchone()[0]
            cached = json.loads(cache.get(f"product:{sku}"))["price_cents"]
            assert (round_, cached) == (round_, committed)
    conn.close()
    cache.close()


def _waiting_on_products(admin: Any) -> bool:
    with admin.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE id <> CONNECTION_ID()"
            " AND info LIKE '% products%' AND state LIKE 'Waiting%'"
        )
        return bool(cur.fetchone()[0])


def _replica_price(backends: Backends, sku: str) -> int | None:
    with replica_admin(backends.env, backends.app) as admin, admin.cursor() as cur:
        cur.execute(
            f"SELECT price_cents FROM {backends.env.mysql.database}.products WHERE sku = %s",
            (sku,),
        )
        row = cur.fetchone()
        return None if row is None else int(row[0])


def test_a_burst_above_the_pool_size_queues_instead_of_failing(
    backends: Backends, tmp_path: Path
) -> None:
    """One pooled connection to the writer. An update takes it and waits on a table lock held
    0.7 s: it runs out of its 0.5 s MySQL deadline (503, rightly: the writer did not answer) and
    gives the connection back. A burst of updates that arrived meanwhile waits its turn and all
    succeed. Before, the wait for a free connection counted against each one's 0.5 s deadline,
    so the whole burst was answered 503 "the writer did not answer" without ever reaching MySQL
    (wrk with 64 connections saw it)."""
    environment = backends.api_environment(MYSQL_POOL_SIZE="1")
    body = {"name": "Burst", "price_cents": 100, "currency": "EUR"}
    with running_api(environment, tmp_path / "api.log") as api, ThreadPoolExecutor(41) as pool:
        conn = backends.mysql()
        with conn.cursor() as cur:
            # A read lock: the updates wait for it, the read each one ends with does not.
            cur.execute("LOCK TABLES products READ")
            locked_at = time.monotonic()
            first = pool.submit(api.put, f"/v1/products/{unique_sku('BURST')}", body)
            wait_for(lambda: _waiting_on_products(conn), 10, "an update waiting on the lock")
            burst = [
                pool.submit(api.put, f"/v1/products/{unique_sku('BURST')}", body) for _ in range(40)
            ]
            time.sleep(max(0.0, locked_at + 0.7 - time.monotonic()))
            cur.execute("UNLOCK TABLES")
        conn.close()
        assert first.result(30).status in (201, 503)
        statuses = [reply.result(30).status for reply in burst]
    assert statuses == [201] * 40, statuses
