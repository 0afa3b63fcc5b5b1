"""When MySQL, Redis or Kafka is down the API answers 503 fast, never hangs, keeps serving what
it can, and recovers by itself when the service returns: no restart."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from platform_api.publisher import REPLACE_AFTER_S

from hyperscale.local import core
from tests.services.api.conftest import Backends, Catalogue
from tests.services.api.support import (
    FAST_503_S,
    ApiClient,
    closed_port,
    cuttable_link,
    metric_value,
    running_api,
)
from tests.services.api.test_orders import an_order
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


def down(reply_json: dict[str, object]) -> object:
    return reply_json.get("down")


def test_kafka_unreachable_orders_and_events_get_503_fast(
    backends: Backends, catalogue: Catalogue, tmp_path: Path
) -> None:
    environment = backends.api_environment(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{closed_port()}")
    with running_api(environment, tmp_path / "api.log") as api:
        # Issue 19 item 10: still ready (reads go on), degraded, kafka named as down.
        ready = wait_for(
            lambda: (r := api.ready()).status == 200 and down(r.json) == ["kafka"] and r,
            timeout=10,
            what="readiness to name kafka",
        )
        assert ready.json["status"] == "degraded"
        assert ready.json["checks"]["kafka"] == "down"  # why is in the log, not the body
        up = metric_value(api.metrics().text, "platform_dependency_up", dependency="kafka")
        assert up == 0
        assert (ready.json["checks"]["redis"], ready.json["checks"]["mysql"]) == ("ok", "ok")

        order = api.order(an_order())
        assert order.status == 503, order
        assert order.elapsed < FAST_503_S, order
        assert order.json["dependency"] == "kafka"
        assert order.headers["retry-after"] == "1"

        # A retry with the key publishes the same record again: 503 as fast, never 409.
        key = str(uuid.uuid4())
        for _ in range(2):
            retried = api.order(an_order(customer_id="c-1"), key)
            assert retried.status == 503, retried
            assert retried.elapsed < FAST_503_S, retried

        events = api.post("/v1/events", {"events": [{"type": "click", "campaign_id": "c-1"}]})
        assert events.status == 503, events
        assert events.elapsed < FAST_503_S, events
        assert events.json["failed_indexes"] == [0]  # definitely not on the topic: resend
        assert events.json["unconfirmed_indexes"] == []

        assert api.get("/healthz").status == 200  # alive: not a reason to restart it
        assert api.get(f"/v1/inventory/{catalogue.stocked}").status == 200  # reads go on
        metrics = api.metrics().text
        failures = metric_value(
            metrics,
            "kafka_delivery_failures_total",
            topic=backends.orders_topic,
            reason="unavailable",
        )
        assert failures == 3
        assert metric_value(metrics, "kafka_producer_available") == 0


def test_a_producer_unreachable_too_long_is_replaced_and_a_healthy_one_is_not(
    backends: Backends, tmp_path: Path
) -> None:
    """The regression test of the stalled-producer fix: a librdkafka producer was seen to stop
    reconnecting after several broker restarts, so one unreachable for REPLACE_AFTER_S is
    replaced. The stall itself does not reproduce on demand; the replacement does."""
    unreachable = backends.api_environment(KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{closed_port()}")
    with (
        running_api(unreachable, tmp_path / "down.log") as down_api,
        running_api(backends.api_environment(), tmp_path / "up.log") as up_api,
    ):
        wait_for(
            lambda: replacements(down_api) >= 1,
            timeout=REPLACE_AFTER_S + 30,
            what="the unreachable producer to be replaced",
        )
        assert "replaced the Kafka producer" in (tmp_path / "down.log").read_text()
        assert down_api.order(an_order()).status == 503  # still answering
        # the healthy API, up at least as long, never replaced its producer
        assert up_api.order(an_order()).status == 202
        assert replacements(up_api) == 0


def replacements(api: ApiClient) -> float:
    return metric_value(api.metrics().text, "kafka_producer_replacements_total") or 0


def test_mysql_outage_answers_503_fast_and_recovers(
    backends: Backends, catalogue: Catalogue, tmp_path: Path
) -> None:
    writer = backends.env.mysql.writer
    with cuttable_link((writer.host, writer.port)) as link:
        environment = backends.api_environment(MYSQL_WRITER=link.address, MYSQL_READER=link.address)
        with running_api(environment, tmp_path / "api.log") as api:
            assert api.ready().status == 200
            cached = api.get(f"/v1/products/{catalogue.stocked}")  # now in Redis
            assert cached.status == 200, cached

            link.cut()
            ready = api.ready()  # MySQL is the one dependency readiness requires
            assert ready.status == 503, ready
            assert ready.json["status"] == "unavailable"
            assert down(ready.json) == ["mysql"]
            assert ready.elapsed < FAST_503_S, ready

            inventory = api.get(f"/v1/inventory/{catalogue.stocked}")
            assert inventory.status == 503, inventory
            assert inventory.elapsed < FAST_503_S, inventory
            assert inventory.json["dependency"] == "mysql"
            # Issue 19 item 6: which dependency, never its address or a driver's message.
            assert inventory.json["error"] == "mysql unavailable"
            assert link.address.rsplit(":", 1)[1] not in inventory.text
            assert link.address.rsplit(":", 1)[1] not in ready.text
            put = api.put(
                f"/v1/products/{catalogue.bare}",
                {"name": "x", "price_cents": 1, "currency": "EUR"},
            )
            assert put.status == 503, put
            assert put.elapsed < FAST_503_S, put
            # The cache still answers what it holds.
            assert api.get(f"/v1/products/{catalogue.stocked}").headers["x-cache"] == "hit"
            # Orders need MySQL now: prices from the catalogue, the key's durable record.
            refused = api.order(an_order())
            assert refused.status == 503, refused
            assert refused.json["dependency"] == "mysql"

            link.restore()
            wait_for(lambda: api.ready().status == 200, timeout=10, what="readiness after MySQL")
            assert api.get(f"/v1/inventory/{catalogue.stocked}").json["total"] == 12


def test_redis_outage_reads_fall_through_to_mysql_and_recover(
    backends: Backends, catalogue: Catalogue, tmp_path: Path
) -> None:
    redis = backends.env.redis.endpoint
    with cuttable_link((redis.host, redis.port)) as link:
        environment = backends.api_environment(REDIS_URL=f"redis://{link.address}/0")
        with running_api(environment, tmp_path / "api.log") as api:
            assert api.ready().status == 200
            link.cut()

            product = api.get(f"/v1/products/{catalogue.bare}")
            assert product.status == 200, product  # a cache outage is a miss, not a failure
            assert product.headers["x-cache"] == "miss"
            assert product.elapsed < FAST_503_S, product

            # Issue 19 item 10: Redis is a cache; losing it took every replica out of service.
            ready = api.ready()
            assert ready.status == 200, ready
            assert ready.json["status"] == "degraded"
            assert down(ready.json) == ["redis"]
            # Issue 19 item 6: the Redis error (with host and port) was in this public body.
            assert ready.json["checks"]["redis"] == "down"
            assert link.address.rsplit(":", 1)[1] not in ready.text
            up = metric_value(api.metrics().text, "platform_dependency_up", dependency="redis")
            assert up == 0

            # Keys live in MySQL and prices fall through to it: orders go on without Redis.
            keyed = api.order(an_order(), str(uuid.uuid4()))
            assert keyed.status == 202, keyed

            metrics = api.metrics().text
            assert (metric_value(metrics, "product_cache_lookups_total", result="error") or 0) >= 1

            link.restore()
            wait_for(
                lambda: api.ready().json["status"] == "ready",
                timeout=10,
                what="readiness after Redis",
            )
            api.get(f"/v1/products/{catalogue.bare}")
            assert api.get(f"/v1/products/{catalogue.bare}").headers["x-cache"] == "hit"
    # The log says it once, not once per request.
    log = (tmp_path / "api.log").read_text()
    assert log.count("product cache bypassed") == 1


@pytest.mark.timeout(300)
def test_orders_resume_by_themselves_after_each_of_several_broker_restarts(
    backends: Backends, tmp_path: Path
) -> None:
    """The real broker stopped and started again three times in a row, through `hyperscale
    local down|up kafka`, against one long-lived API. (A librdkafka producer was once seen to
    stop reconnecting after several restarts; the replacement that fixed it has its own test
    above, since this one does not reproduce that stall.)"""
    with running_api(backends.api_environment(), tmp_path / "api.log") as api:
        assert api.order(an_order()).status == 202
        for restart in range(1, 4):
            try:
                core.down(backends.env, backends.app, ["kafka"])
                wait_for(
                    lambda: (r := api.ready()).status == 200 and down(r.json) == ["kafka"],
                    timeout=30,
                    what=f"readiness to name kafka (restart {restart})",
                )
                refused = api.order(an_order())
                assert refused.status == 503, refused
                assert refused.elapsed < FAST_503_S, refused
            finally:
                result = core.up(backends.env, backends.app, ["kafka"])
                assert all(s.state.healthy for s in result.services), result
            wait_for(
                lambda: api.ready().json["status"] == "ready",
                timeout=60,
                what=f"readiness after Kafka came back (restart {restart})",
            )
            accepted = wait_for(
                lambda: (r := api.order(an_order())).status == 202 and r,
                timeout=30,
                what=f"an order accepted after restart {restart}",
            )
            assert accepted.json["status"] == "accepted"


def test_without_redis_and_kafka_the_pod_stays_ready_for_what_it_can_serve(
    backends: Backends, catalogue: Catalogue, tmp_path: Path
) -> None:
    """Issue 19 item 10: /readyz is the readiness probe and the ALB health check, so a 503 takes
    the pod out of service. Both down, reads still work from MySQL: 200, "degraded"."""
    environment = backends.api_environment(
        KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{closed_port()}",
        REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0",
    )
    with running_api(environment, tmp_path / "api.log") as api:
        ready = wait_for(
            lambda: (r := api.ready()).status == 200 and down(r.json) == ["kafka", "redis"] and r,
            timeout=10,
            what="readiness to name kafka and redis",
        )
        assert ready.json == {
            "status": "degraded",
            "down": ["kafka", "redis"],
            "checks": {"redis": "down", "mysql": "ok", "kafka": "down"},
        }
        assert api.get(f"/v1/products/{catalogue.bare}").status == 200
        assert api.get(f"/v1/inventory/{catalogue.stocked}").status == 200
        assert api.order(an_order(), str(uuid.uuid4())).status == 503  # orders need Kafka
