"""Consumer throughput: events applied per second from a pre-filled topic into MySQL.

Run (backing services up: `hyperscale local up`):
    .venv/bin/python benchmarks/consumer_throughput.py [--small 20000] [--large 200000]
    .venv/bin/python benchmarks/consumer_throughput.py --sustained 5000000 --only-sustained

The platform consumer (`python -m platform_consumer`, batches in one transaction) and a naive
consumer (one event per transaction, offsets committed per record, the way a first version is
often written) read the same kind of data: a pre-filled pair of topics, 90 % marketing events
over 100 campaigns and 10 % orders of one to three lines. Each run gets topics of its own with
fresh event ids. The platform consumer runs at two topic sizes; its peak RSS should not grow
with the topic. Goals (issue 4): >= 10x the naive consumer and >= 20,000 events/s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil
from platform_events.ids import new_id as new_event_id

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.config.secrets import generated_secret_path
from hyperscale.context import AppContext

PARTITIONS = 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_topics(env: Environment, run: str) -> tuple[str, str]:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    orders, events = f"bench-orders-{run}", f"bench-events-{run}"
    admin = AdminClient({"bootstrap.servers": env.kafka.bootstrap})
    names = [orders, events, orders + ".dlq", events + ".dlq"]
    for future in admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names]).values():
        future.result(30)
    return orders, events


def fill(
    env: Environment,
    orders_topic: str,
    events_topic: str,
    count: int,
    seed: int,
    new_id: Callable[[], uuid.UUID] = new_event_id,
) -> None:
    from confluent_kafka import Producer

    rng = random.Random(seed)
    producer = Producer(
        {
            "bootstrap.servers": env.kafka.bootstrap,
            "linger.ms": 20,
            "batch.num.messages": 10_000,
            "queue.buffering.max.messages": 500_000,
            "compression.type": "lz4",
        }
    )
    now = datetime.now(UTC).isoformat()
    for i in range(count):
        if i % 10 == 0:
            order_id = str(new_id())
            lines = [
                {
                    "sku": f"SKU-{rng.randrange(500)}-{j}",
                    "quantity": rng.randint(1, 4),
                    "unit_price_cents": rng.randint(100, 9999),
                }
                for j in range(rng.randint(1, 3))
            ]
            body = {
                "event_id": str(new_id()),
                "occurred_at": now,
                "type": "order.created",
                "order": {
                    "order_id": order_id,
                    "customer_id": f"cust-{rng.randrange(10_000)}",
                    "currency": "EUR",
                    "lines": lines,
                },
            }
            topic, key = orders_topic, order_id
        else:
            kind = rng.choices(["impression", "click", "conversion"], [80, 18, 2])[0]
            campaign = f"camp-{rng.randrange(100)}"
            body = {
                "event_id": str(new_id()),
                "occurred_at": now,
                "type": kind,
                "campaign_id": campaign,
                "value_cents": rng.randint(100, 5000) if kind == "conversion" else 0,
            }
            topic, key = events_topic, campaign
        while True:
            try:
                producer.produce(topic, key=key.encode(), value=json.dumps(body).encode())
                break
            except BufferError:
                producer.poll(0.1)
        if i % 10_000 == 0:
            producer.poll(0)
    assert producer.flush(120) == 0, "not every record was delivered"


def applied_so_far(metrics_port: int) -> int:
    """Events the consumer applied, from its own counter (a COUNT(*) over millions of
    processed_events rows every fraction of a second would slow the database it measures)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as r:
            body = r.read().decode()
    except OSError:
        return 0
    for line in body.splitlines():
        if line.startswith("platform_consumer_events_applied_total "):
            return int(float(line.split()[1]))
    return 0


def window_rates(samples: list[tuple[float, int]], window: int) -> list[float]:
    """events/s over each successive ``window`` events, from (seconds, applied) samples."""
    rates = []
    start_t, start_n = samples[0]
    for t, n in samples:
        if n - start_n >= window:
            rates.append((n - start_n) / (t - start_t))
            start_t, start_n = t, n
    return rates


def run_platform_consumer(
    env: Environment,
    app: AppContext,
    count: int,
    seed: int,
    new_id: Callable[[], uuid.UUID] = new_event_id,
) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    topics = make_topics(env, run)
    fill(env, *topics, count, seed, new_id)
    assert env.mysql.password.generated
    metrics_port = free_port()
    environ = {
        "PATH": os.defpath,
        **{key: os.environ[key] for key in ("PYTHONPATH",) if key in os.environ},
        "KAFKA_BOOTSTRAP_SERVERS": env.kafka.bootstrap,
        "ORDERS_TOPIC": topics[0],
        "EVENTS_TOPIC": topics[1],
        "CONSUMER_GROUP": f"bench-{run}",
        "MYSQL_WRITER": str(env.mysql.writer),
        "MYSQL_READER": str(env.mysql.reader),
        "MYSQL_DATABASE": env.mysql.database,
        "MYSQL_USER": env.mysql.user,
        "MYSQL_PASSWORD_FILE": str(generated_secret_path(app, env.mysql.password.generated)),
        "CONSUMER_METRICS_PORT": str(metrics_port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "platform_consumer"],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watched = psutil.Process(proc.pid)
    peak = 0
    half_rss = 0  # RSS once half the topic is applied: a streaming consumer stays there
    begun = time.monotonic()
    done = 0
    samples = [(0.0, 0)]
    cap_s = max(600.0, count / 2_000)
    try:
        while done < count and time.monotonic() - begun < cap_s:
            rss = watched.memory_info().rss
            peak = max(peak, rss)
            done = applied_so_far(metrics_port)
            samples.append((time.monotonic() - begun, done))
            if not half_rss and done >= count // 2:
                half_rss = rss
            time.sleep(0.25)
        elapsed = time.monotonic() - begun
        end_rss = watched.memory_info().rss
    finally:
        proc.terminate()
        proc.wait(60)
    return {
        "events": done,
        "seconds": elapsed,
        "rate": done / elapsed,
        "peak_rss_mib": peak / 2**20,
        "half_rss_mib": half_rss / 2**20,
        "end_rss_mib": end_rss / 2**20,
        "samples": samples,
    }


def processed_rows(env: Environment, app: AppContext) -> int:
    """The size of processed_events, as InnoDB estimates it (instant, unlike COUNT(*))."""
    import pymysql

    with (
        pymysql.connect(
            host=env.mysql.writer.host,
            port=env.mysql.writer.port,
            user=env.mysql.user,
            password=resolve_secret(app, env.mysql.password),
            database=env.mysql.database,
        ) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(
            "SELECT TABLE_ROWS FROM information_schema.TABLES"
            " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'processed_events'"
        )
        row = cur.fetchone()
        return int(row[0]) if row else 0


ID_KINDS: dict[str, Callable[[], uuid.UUID]] = {"v7": new_event_id, "v4": uuid.uuid4}
SUSTAINED_WINDOW = 500_000


def sustained(env: Environment, app: AppContext, count: int, kinds: list[str]) -> None:
    """Issue 20 item 5: the rate over millions of events, per window of 500,000, with the
    ids the API mints (UUIDv7) and with random UUIDv4 ones (what it minted before)."""
    print(f"\nSustained: {count} events per run, rate per {SUSTAINED_WINDOW:,} events\n")
    print(
        "| event ids | events | seconds | events/s overall | slowest window | last window |"
        " processed_events rows after |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for seed, kind in enumerate(kinds, 10):
        r = run_platform_consumer(env, app, count, seed, ID_KINDS[kind])
        rates = window_rates(r["samples"], SUSTAINED_WINDOW) or [r["rate"]]
        print(
            f"| {kind} | {r['events']} | {r['seconds']:.0f} | {r['rate']:.0f} |"
            f" {min(rates):.0f} | {rates[-1]:.0f} | ~{processed_rows(env, app):,} |",
            flush=True,
        )
        print("  windows: " + ", ".join(f"{x:.0f}" for x in rates), flush=True)


INSERT_ORDER = (
    "INSERT INTO orders (order_id, customer_id, status, total_cents, currency, created_at)"
    " VALUES (%s, %s, 'created', %s, %s, UTC_TIMESTAMP())"
)
INSERT_LINE = "INSERT INTO order_lines VALUES (%s, %s, %s, %s, %s)"
COUNT_EVENT = (
    "INSERT INTO campaign_stats (campaign_id, {column}, conversion_value_cents)"
    " VALUES (%s, 1, %s) ON DUPLICATE KEY UPDATE {column} = {column} + 1,"
    " conversion_value_cents = conversion_value_cents + VALUES(conversion_value_cents)"
)
MARK_PROCESSED = (
    "INSERT INTO processed_events (event_id, topic, kafka_partition, kafka_offset)"
    " VALUES (%s, %s, %s, %s)"
)
COUNTERS = {"impression": "impressions", "click": "clicks", "conversion": "conversions"}


def apply_one(cur: Any, event: dict[str, Any], message: Any) -> None:
    """The naive consumer's work for one event, inside the caller's transaction."""
    cur.execute("SELECT 1 FROM processed_events WHERE event_id = %s", (event["event_id"],))
    if cur.fetchone() is not None:
        return
    if event["type"] == "order.created":
        order = event["order"]
        total = sum(x["quantity"] * x["unit_price_cents"] for x in order["lines"])
        values = (order["order_id"], order["customer_id"], total, order["currency"])
        cur.execute(INSERT_ORDER, values)
        for n, line in enumerate(order["lines"], 1):
            row = (order["order_id"], n, line["sku"], line["quantity"], line["unit_price_cents"])
            cur.execute(INSERT_LINE, row)
    else:
        sql = COUNT_EVENT.format(column=COUNTERS[event["type"]])
        cur.execute(sql, (event["campaign_id"], event.get("value_cents", 0)))
    position = (event["event_id"], message.topic(), message.partition(), message.offset())
    cur.execute(MARK_PROCESSED, position)


def run_naive_consumer(
    env: Environment, app: AppContext, count: int, seed: int, cap_s: float
) -> dict[str, Any]:
    """One event, one transaction, one offset commit: the baseline."""
    import pymysql
    from confluent_kafka import Consumer

    run = uuid.uuid4().hex[:8]
    topics = make_topics(env, run)
    fill(env, *topics, count, seed)
    consumer = Consumer(
        {
            "bootstrap.servers": env.kafka.bootstrap,
            "group.id": f"naive-{run}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe(list(topics))
    conn = pymysql.connect(
        host=env.mysql.writer.host,
        port=env.mysql.writer.port,
        user=env.mysql.user,
        password=resolve_secret(app, env.mysql.password),
        database=env.mysql.database,
    )
    done = 0
    begun = time.monotonic()
    try:
        while done < count and time.monotonic() - begun < cap_s:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            with conn.cursor() as cur:
                apply_one(cur, json.loads(message.value()), message)
            conn.commit()
            consumer.commit(message=message, asynchronous=False)
            done += 1
        elapsed = time.monotonic() - begun
    finally:
        consumer.close()
        conn.close()
    return {"events": done, "seconds": elapsed, "rate": done / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="local")
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument(
        "--naive-cap", type=float, default=60.0, help="seconds the naive consumer may run"
    )
    parser.add_argument(
        "--sustained",
        type=int,
        default=0,
        help="also run this many events per id kind and report the rate per 500,000 (5000000)",
    )
    parser.add_argument("--ids", default="v7,v4", help="id kinds for --sustained: v7, v4")
    parser.add_argument("--only-sustained", action="store_true")
    args = parser.parse_args()
    app = AppContext.from_os()
    env = load_environment(app, args.env)
    if args.sustained:
        sustained(env, app, args.sustained, args.ids.split(","))
    if args.only_sustained:
        return

    naive = run_naive_consumer(env, app, args.small, 1, args.naive_cap)
    small = run_platform_consumer(env, app, args.small, 1)
    large = run_platform_consumer(env, app, args.large, 2)
    rows = [("naive (1 event per transaction)", naive, None)]
    rows += [
        (f"platform consumer, {r['events']} events", r, r["peak_rss_mib"]) for r in (small, large)
    ]
    print(f"{os.cpu_count()} cores; {PARTITIONS} partitions; 90 % marketing events, 10 % orders\n")
    print("| consumer | events | seconds | events/s | peak RSS MiB |")
    print("|---|---:|---:|---:|---:|")
    for label, r, rss in rows:
        memory = f"{rss:.0f}" if rss is not None else "-"
        print(f"| {label} | {r['events']} | {r['seconds']:.1f} | {r['rate']:.0f} | {memory} |")
    growth = args.large // args.small
    print(f"\nplatform / naive = {large['rate'] / naive['rate']:.1f}x (goal >= 10x)")
    print(f"platform = {large['rate']:.0f} events/s (goal >= 20,000)")
    rss = f"{small['peak_rss_mib']:.0f} -> {large['peak_rss_mib']:.0f} MiB"
    print(f"peak RSS {rss} for {growth}x the events")
    steady = f"{large['half_rss_mib']:.0f} MiB at half, {large['end_rss_mib']:.0f} MiB at the end"
    print(f"large run RSS: {steady} (flat once the fetch buffers are full)")


if __name__ == "__main__":
    main()
