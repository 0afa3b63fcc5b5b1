"""The platform deployed on the local target, end to end: API -> Kafka -> consumer -> MySQL."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.clients.mysql import writer_engine
from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.deploy import core as deploy_core
from hyperscale.errors import ExternalSystemError
from hyperscale.local import core as local_core
from hyperscale.targets.local import LocalTarget
from tests.conftest import invoke
from tests.services.api.support import CLIENT_TIMEOUT_S, FAST_503_S
from tests.support import API_AUTH, wait_for

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]


#: How long an event may take to reach MySQL here: usually well under a second, but a deploy
#: that changes the number of consumers can leave the group rebalancing until a departed static
#: member's session expires (10 s), on top of a loaded machine.
APPLIED_S = 90


def _api(env: Environment) -> str:
    return str(env.services.api_url).rstrip("/")


def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """POST as a client of the platform: its token, and for an order a fresh Idempotency-Key
    unless the test names one."""
    sent = {"Content-Type": "application/json", **API_AUTH, **(headers or {})}
    if url.endswith("/v1/orders"):
        sent.setdefault("Idempotency-Key", str(uuid.uuid4()))
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST", headers=sent
    )
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_TIMEOUT_S) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def order_body(customer: str, sku: str = "TEE-1") -> dict[str, Any]:
    return {
        "customer_id": customer,
        "currency": "EUR",
        "lines": [{"sku": sku, "quantity": 2}],  # 1999 cents each (tests/conftest.py)
    }


def query(env: Environment, app: AppContext, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    engine = writer_engine(env, app)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(sql), params)]
    finally:
        engine.dispose()


def orders_of(env: Environment, app: AppContext, customer: str) -> list[tuple[Any, ...]]:
    return query(
        env, app, "SELECT order_id, total_cents FROM orders WHERE customer_id = :c", c=customer
    )


def wait_until_consumed(env: Environment, topic: str, timeout: float = 60) -> None:
    """Wait until the platform's consumer group has committed past everything on ``topic``
    now: whatever was published before this call (a duplicate included) has been applied,
    since the consumer commits only after the database commit."""
    from confluent_kafka import Consumer, TopicPartition

    # The group's id, but never subscribed: it reads the group's offsets without joining it.
    reader = Consumer(
        {
            "bootstrap.servers": env.kafka.bootstrap,
            "group.id": env.kafka.consumer_group,
            "enable.auto.commit": False,
        }
    )
    try:
        partitions = list(reader.list_topics(topic, timeout=10).topics[topic].partitions)
        ends = {
            p: reader.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }

        def consumed() -> bool:
            wanted = [TopicPartition(topic, p) for p in partitions if ends[p] > 0]
            committed = reader.committed(wanted, timeout=10)
            return all(tp.offset >= ends[tp.partition] for tp in committed)

        wait_for(consumed, timeout, f"the consumer group to commit past {ends} on {topic}")
    finally:
        reader.close()


def test_a_second_deploy_changes_nothing(platform: Environment, shared_app: AppContext) -> None:
    before = {p.name: p.pid for p in LocalTarget(platform, shared_app).supervisor.programs()}
    again = deploy_core.deploy(platform, shared_app)
    assert again.changed is False
    assert {p.name: p.action for p in again.programs} == dict.fromkeys(before, "unchanged")
    assert {p.name: p.pid for p in again.programs} == before
    assert again.migrations_applied == []
    assert again.topics_created == []


def test_each_service_logs_in_to_kafka_as_itself(
    platform: Environment, shared_app: AppContext
) -> None:
    """Issue 19 item 5: the API and the consumers run with their own SCRAM users on the
    broker's SASL listener (where only ACLs grant anything), their passwords only in files;
    the deploy applied those ACLs. The rest of this module (orders applied, dead letters
    written) passes through exactly these grants."""
    from hyperscale.config.secrets import generated_secret_path

    access = platform.kafka.services
    assert access is not None
    users = {"api": access.api.username, "consumer": access.consumer.username}
    for program in LocalTarget(platform, shared_app).supervisor.programs():
        environ = dict(
            item.split("=", 1)
            for item in Path(f"/proc/{program.pid}/environ").read_text().split("\0")
            if "=" in item
        )
        service = "api" if program.name == "api" else "consumer"
        assert environ["KAFKA_SASL_USERNAME"] == users[service], program.name
        assert environ["KAFKA_BOOTSTRAP_SERVERS"] == platform.kafka.connection(service).bootstrap
        assert environ["KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        secret = generated_secret_path(shared_app, f"kafka-{service}-password")
        assert environ["KAFKA_SASL_PASSWORD_FILE"] == str(secret)
        assert secret.read_text().strip() not in "\0".join(environ.values())
    # Every grant the environment derives is on the broker. Extras may exist: other tests'
    # deployments on this shared broker grant the same consumer user their own groups.
    outcome = invoke(shared_app, "kafka", "acls", "diff", "--env", "local", "-o", "json")
    assert outcome.exit_code in (0, 1), outcome.stdout + outcome.stderr
    summary = json.loads(outcome.stdout)["data"]["summary"]
    assert summary["create"] == 0, summary
    assert summary["keep"] > 0, summary


def test_status_shows_each_program_ready(platform: Environment, shared_app: AppContext) -> None:
    outcome = invoke(shared_app, "status", "--env", "local", "-o", "json")
    assert outcome.exit_code == 0, outcome.stdout
    programs = {p["name"]: p for p in json.loads(outcome.stdout)["data"]["programs"]}
    assert set(programs) == {"api", "consumer-1", "consumer-2"}
    assert all(p["action"] == "running" and p["ready"] and p["pid"] for p in programs.values())
    assert all(p["uptime_s"] is not None and p["uptime_s"] >= 0 for p in programs.values())


def test_an_order_becomes_rows_in_mysql(platform: Environment, shared_app: AppContext) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    status, answer = post(f"{_api(platform)}/v1/orders", order_body(customer))
    assert status == 202, answer
    rows = wait_for(
        lambda: orders_of(platform, shared_app, customer), APPLIED_S, "the order in MySQL"
    )
    assert rows == [(answer["order_id"], 3998)]
    lines = query(
        platform,
        shared_app,
        "SELECT sku, quantity FROM order_lines WHERE order_id = :o",
        o=answer["order_id"],
    )
    assert lines == [("TEE-1", 2)]


def test_the_same_idempotency_key_gives_one_order(
    platform: Environment, shared_app: AppContext
) -> None:
    customer = f"c-{uuid.uuid4().hex[:8]}"
    key = f"key-{uuid.uuid4().hex}"
    first = post(f"{_api(platform)}/v1/orders", order_body(customer), {"Idempotency-Key": key})
    second = post(f"{_api(platform)}/v1/orders", order_body(customer), {"Idempotency-Key": key})
    assert first[0] == 202
    assert first == second
    # The same key for a different order is a client bug, refused rather than replayed.
    other = post(
        f"{_api(platform)}/v1/orders", order_body(customer, sku="OTHER-1"), {"Idempotency-Key": key}
    )
    assert other[0] == 422
    wait_for(lambda: orders_of(platform, shared_app, customer), APPLIED_S, "the order in MySQL")
    wait_until_consumed(platform, platform.kafka.topics.orders)  # a duplicate would be in now
    assert len(orders_of(platform, shared_app, customer)) == 1


def _produce(
    env: Environment,
    topic: str,
    value: bytes,
    key: bytes,
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": env.kafka.bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=key, value=value, headers=headers or [])
    assert producer.flush(10) == 0


def test_the_same_event_delivered_twice_is_applied_once(
    platform: Environment, shared_app: AppContext
) -> None:
    campaign = f"camp-{uuid.uuid4().hex[:8]}"
    event = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": datetime.now(UTC).isoformat(),
        "type": "click",
        "campaign_id": campaign,
    }
    raw = json.dumps(event).encode()
    for _ in range(2):
        _produce(platform, platform.kafka.topics.events, raw, campaign.encode())
    stats = "SELECT clicks FROM campaign_stats WHERE campaign_id = :c"
    wait_for(lambda: query(platform, shared_app, stats, c=campaign), 30, "the click counted")
    wait_until_consumed(platform, platform.kafka.topics.events)  # the second copy is applied
    assert query(platform, shared_app, stats, c=campaign) == [(1,)]


def test_a_poison_record_goes_to_the_dlq_and_the_consumer_keeps_going(
    platform: Environment, shared_app: AppContext
) -> None:
    from confluent_kafka import Consumer
    from platform_events.dlq import DLQ_HEADERS

    topic = platform.kafka.topics.orders
    poison_key = f"poison-{uuid.uuid4().hex[:8]}".encode()
    _produce(platform, topic, b"{not json", poison_key, [("trace", b"t-1")])
    customer = f"c-{uuid.uuid4().hex[:8]}"
    status, _ = post(f"{_api(platform)}/v1/orders", order_body(customer))
    assert status == 202
    wait_for(
        lambda: orders_of(platform, shared_app, customer), APPLIED_S, "the order after the poison"
    )

    consumer = Consumer(
        {
            "bootstrap.servers": platform.kafka.bootstrap,
            "group.id": f"test-dlq-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic + platform.kafka.topics.dead_letter_suffix])
    found = None
    deadline = time.monotonic() + 30
    try:
        while found is None and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None and message.key() == poison_key:
                found = message
    finally:
        consumer.close()
    assert found is not None, "the poison record is not on the DLQ"
    assert found.value() == b"{not json"
    headers = {name: value.decode() for name, value in found.headers() or []}
    assert set(DLQ_HEADERS) <= set(headers)
    assert headers["hyperscale.dlq.original-topic"] == topic
    assert headers["hyperscale.dlq.consumer-group"] == platform.kafka.consumer_group
    assert headers["trace"] == "t-1"  # the original headers are kept


def test_smoke_passes(platform: Environment, shared_app: AppContext) -> None:
    outcome = invoke(
        shared_app, "smoke", "--env", "local", "--orders", "10", "--events", "30", "-o", "json"
    )
    data = json.loads(outcome.stdout)["data"]
    assert outcome.exit_code == 0, data
    assert data["passed"] is True
    assert data["orders_in_mysql"] == 10


@dataclass
class OrderStream:
    """Orders posted in a loop, each answer kept with the time it came."""

    accepted: list[tuple[float, str]] = field(default_factory=list)
    refused: list[float] = field(default_factory=list)

    def accepted_after(self, moment: float) -> int:
        return sum(1 for at, _ in self.accepted if at > moment)

    def refused_after(self, moment: float) -> int:
        return sum(1 for at in self.refused if at > moment)


def _stream_orders(
    env: Environment, customer: str, stop: threading.Event, seen: OrderStream
) -> None:
    """Post orders until told to stop; a refused one is retried with the same key."""
    i = 0
    while not stop.is_set():
        status, answer = post(
            f"{_api(env)}/v1/orders", order_body(customer), {"Idempotency-Key": f"{customer}-{i}"}
        )
        if status == 202:
            seen.accepted.append((time.monotonic(), answer["order_id"]))
            i += 1
        else:
            seen.refused.append(time.monotonic())
            time.sleep(0.05)  # 503 while a dependency is down: retry the same key


@pytest.mark.parametrize("service", ["kafka", "mysql"])
def test_every_accepted_order_lands_once_across_a_restart(
    platform: Environment, shared_app: AppContext, service: str
) -> None:
    """Orders flow before, during (refused, then retried with their key) and after the restart
    of a dependency; each accepted one is in MySQL exactly once."""
    customer = f"c-{service}-{uuid.uuid4().hex[:6]}"
    stop, seen = threading.Event(), OrderStream()
    streamer = threading.Thread(target=_stream_orders, args=(platform, customer, stop, seen))
    streamer.start()
    try:
        wait_for(lambda: len(seen.accepted) >= 5, 30, "orders accepted before the restart")
        local_core.down(platform, shared_app, [service])
        stopped = time.monotonic()
        # Orders need both: MySQL holds the prices and the idempotency keys, Kafka the order.
        # Refused (503), they are retried with the same key, and land once when it is back.
        wait_for(lambda: seen.refused_after(stopped), 30, f"a 503 while {service} is down")
        assert local_core.up(platform, shared_app, [service]).exit_code == 0
        restarted = time.monotonic()
        wait_for(lambda: seen.accepted_after(restarted) >= 5, 60, f"orders after {service} is back")
    finally:
        stop.set()
        streamer.join(30)
    ids = [order_id for _, order_id in seen.accepted]
    wanted = sorted(set(ids))
    assert len(wanted) == len(ids), "the API accepted an order twice"

    def landed() -> bool:
        return len(orders_of(platform, shared_app, customer)) >= len(wanted)

    wait_for(landed, 90, f"{len(wanted)} orders in MySQL after the {service} restart")
    wait_until_consumed(platform, platform.kafka.topics.orders)  # and no more than those
    assert sorted(r[0] for r in orders_of(platform, shared_app, customer)) == wanted


def test_with_kafka_stopped_orders_get_503_fast(
    platform: Environment, shared_app: AppContext
) -> None:
    local_core.down(platform, shared_app, ["kafka"])
    try:
        begun = time.monotonic()
        status, answer = post(f"{_api(platform)}/v1/orders", order_body("c-down"))
        elapsed = time.monotonic() - begun
        assert status == 503, answer
        assert elapsed < FAST_503_S  # answered, not hung on the broker (see its definition)
    finally:
        assert local_core.up(platform, shared_app, ["kafka"]).exit_code == 0
    wait_for(
        lambda: post(f"{_api(platform)}/v1/orders", order_body("c-back"))[0] == 202,
        30,
        "the API to recover",
    )


def test_a_program_that_cannot_start_is_named_with_its_log(
    platform: Environment, isolated_app: AppContext
) -> None:
    """A second deployment whose API port is taken: deploy fails naming `api` and its log."""
    path = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(path.read_text())
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        data["services"]["api_url"] = f"http://127.0.0.1:{port}"
        data["services"]["consumer_metrics_url"] = f"http://127.0.0.1:{port + 1}/metrics"
        data["kafka"]["consumer_group"] = f"test-private-{uuid.uuid4().hex[:6]}"
        data["local"]["consumers"] = 1
        path.write_text(yaml.safe_dump(data))
        env = load_environment(isolated_app, "local")
        # the backing services are the shared ones: reuse their generated passwords (MariaDB's
        # and the services' Kafka logins), or the consumer is refused and fails first
        shutil.copytree(
            AppContext.from_os().state_dir / "secrets", isolated_app.state_dir / "secrets"
        )
        try:
            with pytest.raises(ExternalSystemError) as caught:
                deploy_core.deploy(env, isolated_app)
        finally:
            LocalTarget(env, isolated_app).stop()
    assert caught.value.message.startswith("program api ")
    assert "api.log" in caught.value.message
    assert caught.value.details, "the last lines of the program's log"
