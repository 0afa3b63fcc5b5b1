"""Each backing service answers a real client, started by the same code as `hyperscale local up`."""

from __future__ import annotations

import mailbox
import smtplib
import time
import uuid
from email.message import EmailMessage

import pytest

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local.services.smtp import SmtpSinkService
from tests.conftest import moto_client

pytestmark = pytest.mark.services


@pytest.mark.kafka
def test_kafka_produce_then_consume_with_a_group_commit(local_services: Environment) -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    bootstrap = local_services.kafka.bootstrap
    topic = f"test-roundtrip-{uuid.uuid4().hex[:8]}"
    group = f"test-group-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])[topic].result(10)

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    producer.produce(topic, key=b"order-1", value=b'{"sku":"A-1"}', headers={"event-id": b"e-1"})
    assert producer.flush(10) == 0

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    message = None
    deadline = time.monotonic() + 30
    while message is None and time.monotonic() < deadline:
        polled = consumer.poll(0.5)
        if polled is not None and polled.error() is None:
            message = polled
    assert message is not None, "no record came back from the broker"
    assert (message.key(), message.value()) == (b"order-1", b'{"sku":"A-1"}')
    assert message.headers() == [("event-id", b"e-1")]
    consumer.commit(message=message, asynchronous=False)
    consumer.close()

    # The commit is visible to a fresh client of the same group.
    checker = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    committed = checker.committed([TopicPartition(topic, message.partition())], timeout=10)
    checker.close()
    assert committed[0].offset == message.offset() + 1
    admin.delete_topics([topic])


@pytest.mark.mysql
def test_mariadb_sql_round_trip_as_the_platform_user(
    local_services: Environment, shared_app: AppContext
) -> None:
    import pymysql

    cfg = local_services.mysql
    conn = pymysql.connect(
        host=cfg.writer.host,
        port=cfg.writer.port,
        user=cfg.user,
        password=resolve_secret(shared_app, cfg.password),
        database=cfg.database,
        autocommit=False,
    )
    table = f"t_{uuid.uuid4().hex[:8]}"
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE TABLE {table} (id INT PRIMARY KEY, sku VARCHAR(32)) ENGINE=InnoDB")
            cur.execute(f"INSERT INTO {table} VALUES (%s, %s), (%s, %s)", (1, "A-1", 2, "B-2"))
            conn.commit()
            cur.execute(f"SELECT id, sku FROM {table} ORDER BY id")
            assert cur.fetchall() == ((1, "A-1"), (2, "B-2"))
            cur.execute("SELECT @@port, @@bind_address")
            assert cur.fetchone() == (cfg.writer.port, "127.0.0.1")
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        conn.close()


@pytest.mark.mysql
def test_mariadb_refuses_a_wrong_password(local_services: Environment) -> None:
    import pymysql

    cfg = local_services.mysql
    with pytest.raises(pymysql.err.OperationalError) as caught:
        pymysql.connect(host=cfg.writer.host, port=cfg.writer.port, user=cfg.user, password="wrong")
    assert caught.value.args[0] == 1045  # access denied


@pytest.mark.redis
def test_redis_set_get(local_services: Environment) -> None:
    import redis

    client = redis.Redis(
        host=local_services.redis.endpoint.host, port=local_services.redis.endpoint.port
    )
    key = f"test:{uuid.uuid4().hex}"
    assert client.set(key, "cached", ex=30)
    assert client.get(key) == b"cached"
    assert 0 < client.ttl(key) <= 30
    client.delete(key)
    client.close()


@pytest.mark.aws
def test_boto3_against_the_moto_endpoint(local_services: Environment) -> None:
    s3 = moto_client(local_services, "s3")
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="reports/cost.json", Body=b'{"total": 12.5}')
    body = s3.get_object(Bucket=bucket, Key="reports/cost.json")["Body"].read()
    assert body == b'{"total": 12.5}'
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]


@pytest.mark.smtp
def test_mail_sent_is_kept_in_the_sink_maildir(
    local_services: Environment, shared_app: AppContext
) -> None:
    sink = SmtpSinkService(local_services, shared_app)
    subject = f"digest {uuid.uuid4().hex[:8]}"
    message = EmailMessage()
    message["From"] = local_services.reports.email.sender
    message["To"] = ", ".join(local_services.reports.email.recipients)
    message["Subject"] = subject
    message.set_content("p95 142 ms, error rate 0.2 %")
    smtp = local_services.reports.email.smtp.endpoint
    with smtplib.SMTP(smtp.host, smtp.port, timeout=5) as client:
        client.send_message(message)

    stored = [m for m in mailbox.Maildir(sink.maildir, create=False) if m["Subject"] == subject]
    assert len(stored) == 1
    assert stored[0]["X-Envelope-To"] == "sre@hyperscale.localhost"
    assert stored[0].get_payload(decode=True).decode().strip() == "p95 142 ms, error rate 0.2 %"
