"""Builders and probes for the consumer tests: events, a consumer subprocess, MySQL and offsets."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_events import MarketingEvent, OrderCreated
from platform_events.models import encode_event, headers_for

from hyperscale.context import PROJECT_ROOT
from tests.support import free_port

Event = OrderCreated | MarketingEvent


# -- events -----------------------------------------------------------------------------------


def order_event(
    *, order_id: uuid.UUID | None = None, lines: Sequence[tuple[str, int, int]] | None = None
) -> OrderCreated:
    lines = lines or [("SKU-1", 2, 1250), ("SKU-2", 1, 999)]
    return OrderCreated.model_validate(
        {
            "event_id": uuid.uuid4(),
            "occurred_at": datetime(2026, 11, 25, 10, 30, 15, tzinfo=UTC),
            "order": {
                "order_id": order_id or uuid.uuid4(),
                "customer_id": "cust-42",
                "currency": "EUR",
                "lines": [
                    {"sku": sku, "quantity": q, "unit_price_cents": p} for sku, q, p in lines
                ],
            },
        }
    )


def marketing_event(campaign_id: str, kind: str, value_cents: int = 0) -> MarketingEvent:
    return MarketingEvent.model_validate(
        {
            "event_id": uuid.uuid4(),
            "occurred_at": datetime.now(UTC),
            "type": kind,
            "campaign_id": campaign_id,
            "user_id": "user-1",
            "value_cents": value_cents,
        }
    )


@dataclass
class Topics:
    orders: str
    events: str
    suffix: str = ".dlq"

    @property
    def all(self) -> list[str]:
        return [self.orders, self.events]

    def dlq(self, topic: str) -> str:
        return topic + self.suffix


def create_topics(bootstrap: str) -> Topics:
    """Fresh orders/events topics (3 partitions) and their dead-letter topics."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    tag = uuid.uuid4().hex[:10]
    names = Topics(orders=f"t-orders-{tag}", events=f"t-events-{tag}")
    admin = AdminClient({"bootstrap.servers": bootstrap})
    wanted = [NewTopic(t, num_partitions=3, replication_factor=1) for t in names.all]
    wanted += [NewTopic(names.dlq(t), num_partitions=1, replication_factor=1) for t in names.all]
    for future in admin.create_topics(wanted, operation_timeout=10).values():
        future.result(30)
    return names


class EventProducer:
    """An idempotent producer that writes events the way the API does (key, headers)."""

    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import Producer

        self._producer = Producer(
            {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20}
        )

    def send(self, topic: str, event: Event, partition: int | None = None) -> None:
        key = str(event.order.order_id) if isinstance(event, OrderCreated) else event.campaign_id
        self.raw(topic, key.encode(), encode_event(event), headers_for(event), partition=partition)

    def raw(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]] | None = None,
        timestamp: int | None = None,
        partition: int | None = None,
    ) -> None:
        wire: list[tuple[str, str | bytes | None]] | None = (
            list(headers) if headers is not None else None
        )
        extra: dict[str, Any] = {"timestamp": timestamp} if timestamp is not None else {}
        if partition is not None:
            extra["partition"] = partition
        while True:
            try:
                self._producer.produce(topic, key=key, value=value, headers=wire, **extra)
                break
            except BufferError:
                self._producer.poll(0.1)
        self._producer.poll(0)

    def send_all(self, topic: str, events: Iterable[Event]) -> None:
        for event in events:
            self.send(topic, event)
        self.flush()

    def flush(self, timeout: float = 60) -> None:
        assert self._producer.flush(timeout) == 0, "records were not delivered"


# -- the consumer as a real process -------------------------------------------------------------


@dataclass
class ConsumerProcess:
    """``python -m platform_consumer`` (or a named stand-in module) with its stderr (JSON
    lines) in a file."""

    environ: dict[str, str]
    log_path: Path
    metrics_port: int
    module: str = "platform_consumer"
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    def start(self) -> ConsumerProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                env=self.environ,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=PROJECT_ROOT,
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the consumer did not exit within {timeout}s:\n{self.log_tail()}"
            ) from None

    def stop(self, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def logs(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                lines.append(json.loads(line))
        return lines

    def log_tail(self, count: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-count:])

    def http(self, path: str, timeout: float = 5) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.metrics_port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metric(self, name: str, labels: str = "") -> float:
        """The sum of a metric's samples whose line starts with ``name`` + ``labels``."""
        try:
            _, body = self.http("/metrics")
        except OSError:
            return 0.0
        total = 0.0
        for line in body.splitlines():
            if line.startswith("#"):
                continue
            sample, _, value = line.rpartition(" ")
            metric, _, rest = sample.partition("{")
            if metric == name and (not labels or labels in rest):
                total += float(value)
        return total


# -- MySQL ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MySQL:
    host: str
    port: int
    user: str
    #: Kept out of the repr: pytest prints fixture values in a failure's report.
    password: str = field(repr=False)
    database: str

    @contextlib.contextmanager
    def connect(self) -> Iterator[Any]:
        import pymysql

        conn = pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            database=self.database,
            autocommit=True,
            connect_timeout=5,
        )
        try:
            yield conn
        finally:
            conn.close()

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connect() as conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return list(cur.fetchall())

    def try_rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]] | None:
        """None while the server is down (a restart test polls through the outage)."""
        import pymysql

        try:
            return self.rows(sql, args)
        except pymysql.err.OperationalError:
            return None

    def processed_count(self, topics: Sequence[str]) -> int:
        marks = ", ".join(["%s"] * len(topics))
        rows = self.try_rows(
            f"SELECT COUNT(*) FROM processed_events WHERE topic IN ({marks})", topics
        )
        return int(rows[0][0]) if rows else -1

    def processed_by_partition(self, topics: Sequence[str]) -> dict[tuple[str, int], list[int]]:
        marks = ", ".join(["%s"] * len(topics))
        offsets: dict[tuple[str, int], list[int]] = {}
        for topic, partition, offset in self.rows(
            "SELECT topic, kafka_partition, kafka_offset FROM processed_events"
            f" WHERE topic IN ({marks}) ORDER BY kafka_offset",
            topics,
        ):
            offsets.setdefault((topic, int(partition)), []).append(int(offset))
        return offsets

    def campaign(self, campaign_id: str) -> tuple[int, int, int, int] | None:
        rows = self.rows(
            "SELECT impressions, clicks, conversions, conversion_value_cents"
            " FROM campaign_stats WHERE campaign_id = %s",
            (campaign_id,),
        )
        return tuple(int(v) for v in rows[0]) if rows else None  # type: ignore[return-value]

    def order_counts(self, order_ids: Sequence[str]) -> dict[str, int]:
        """How many orders rows each order id has (exactly-once means 1 each)."""
        counts: dict[str, int] = dict.fromkeys(order_ids, 0)
        for start in range(0, len(order_ids), 1000):
            chunk = order_ids[start : start + 1000]
            marks = ", ".join(["%s"] * len(chunk))
            for order_id, count in self.rows(
                f"SELECT order_id, COUNT(*) FROM orders WHERE order_id IN ({marks})"
                " GROUP BY order_id",
                chunk,
            ):
                counts[order_id] = int(count)
        return counts


class OutageProxy:
    """A TCP relay on loopback in front of one server, which a test can cut: the connections
    through it are closed and new ones refused (its port stops listening) until ``restore``.

    An outage of that server as one client sees it, while the server itself keeps serving the
    other tests of the session.
    """

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> OutageProxy:
        listener = socket.create_server(("127.0.0.1", self.port))
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        listener, self._listener = self._listener, None
        with self._lock:
            sockets, self._open = self._open, []
        for sock in [s for s in (listener,) if s is not None] + sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked on it
            sock.close()

    def restore(self) -> None:
        self.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=_relay, args=(source, target), daemon=True).start()


def _relay(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65_536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


# -- offsets ----------------------------------------------------------------------------------


def partitions_of(bootstrap: str, topic: str) -> list[int]:
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    return sorted(metadata.topics[topic].partitions)


def committed_offsets(
    bootstrap: str, group: str, topics: Sequence[str]
) -> dict[tuple[str, int], int]:
    """The group's committed offset per partition (absent partitions: none committed)."""
    from confluent_kafka import Consumer, TopicPartition

    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        wanted = [TopicPartition(t, p) for t in topics for p in partitions_of(bootstrap, t)]
        committed = probe.committed(wanted, timeout=10)
    finally:
        probe.close()
    return {(tp.topic, tp.partition): tp.offset for tp in committed if tp.offset >= 0}


def end_offsets(bootstrap: str, topics: Sequence[str]) -> dict[tuple[str, int], int]:
    from confluent_kafka import Consumer, TopicPartition

    probe = Consumer({"bootstrap.servers": bootstrap, "group.id": f"probe-{uuid.uuid4().hex}"})
    try:
        ends = {}
        for topic in topics:
            for partition in partitions_of(bootstrap, topic):
                _, high = probe.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
                if high > 0:
                    ends[(topic, partition)] = high
        return ends
    finally:
        probe.close()


def assert_commits_follow_mysql(
    bootstrap: str, group: str, mysql: MySQL, topics: Sequence[str], *, exact: bool = False
) -> dict[tuple[str, int], int]:
    """Every record below a committed offset is in processed_events (read offsets first).

    The topics hold only valid, distinct events here, so offsets 0..c-1 of a partition are
    exactly c processed rows. ``exact``: also nothing beyond the committed offset is applied
    (true once the consumer stopped cleanly).
    """
    committed = committed_offsets(bootstrap, group, topics)
    applied = mysql.processed_by_partition(topics)
    for position, offset in committed.items():
        below = [o for o in applied.get(position, []) if o < offset]
        assert below == list(range(offset)), f"{position}: committed {offset} ahead of MySQL"
    if exact:
        for position, offsets in applied.items():
            assert len(offsets) == committed.get(position, 0), (
                f"{position}: {len(offsets)} applied but {committed.get(position, 0)} committed"
            )
    return committed


def consumer_environ(
    *,
    bootstrap: str,
    topics: Topics,
    group: str,
    mysql: MySQL,
    password_file: Path,
    metrics_port: int,
    **overrides: str,
) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KAFKA_", "MYSQL_", "CONSUMER_"))
    }
    environ |= {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ORDERS_TOPIC": topics.orders,
        "EVENTS_TOPIC": topics.events,
        "DLQ_SUFFIX": topics.suffix,
        "CONSUMER_GROUP": group,
        "MYSQL_WRITER": f"{mysql.host}:{mysql.port}",
        "MYSQL_DATABASE": mysql.database,
        "MYSQL_USER": mysql.user,
        "MYSQL_PASSWORD_FILE": str(password_file),
        "CONSUMER_METRICS_PORT": str(metrics_port),
        "PYTHONUNBUFFERED": "1",
    }
    environ |= overrides
    return environ


class EventStream:
    """A background producer: orders and marketing events at a steady rate until stopped.

    Records what it sent, so a test can check that each event landed exactly once.
    """

    def __init__(
        self, bootstrap: str, topics: Topics, campaigns: Sequence[str], per_tick: int = 40
    ) -> None:
        import threading

        self._producer = EventProducer(bootstrap)
        self._topics = topics
        self._campaigns = list(campaigns)
        self._per_tick = per_tick
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-stream", daemon=True)
        self.order_ids: list[str] = []
        self.impressions: dict[str, int] = dict.fromkeys(campaigns, 0)
        self.error: BaseException | None = None

    @property
    def sent(self) -> int:
        return len(self.order_ids) + sum(self.impressions.values())

    def start(self) -> EventStream:
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            tick = 0
            while not self._stop.is_set():
                for _ in range(self._per_tick):
                    order = order_event()
                    self._producer.send(self._topics.orders, order)
                    self.order_ids.append(str(order.order.order_id))
                    campaign = self._campaigns[tick % len(self._campaigns)]
                    self._producer.send(
                        self._topics.events, marketing_event(campaign, "impression")
                    )
                    self.impressions[campaign] += 1
                    tick += 1
                self._stop.wait(0.05)
        except BaseException as exc:  # noqa: BLE001 - stop() reports it in the test thread
            self.error = exc

    def stop(self) -> None:
        """Stop sending and wait until the broker has every record (the producer retries)."""
        self._stop.set()
        self._thread.join(30)
        assert self.error is None, f"the event stream failed: {self.error!r}"
        self._producer.flush(120)
