"""The API tests' harness: the API as a real server process, an HTTP client, a TCP link that can
be cut (a network fault between the API and MySQL or Redis), and a reader of what is on a topic.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from platform_api.cache import REDIS_TIMEOUT_S
from platform_api.db import CONNECT_TIMEOUT_S, OPERATION_TIMEOUT_S
from platform_api.publisher import DELIVERY_WAIT_S, PROBE_TIMEOUT_S

from hyperscale.context import PROJECT_ROOT
from tests.support import free_port

#: How long a client waits for an answer before it gives up (a hung request fails with it).
CLIENT_TIMEOUT_S = 10.0
#: The API bounds every wait on a dependency; the longest of those bounds.
DEPENDENCY_BOUND_S = max(
    DELIVERY_WAIT_S, CONNECT_TIMEOUT_S + OPERATION_TIMEOUT_S, REDIS_TIMEOUT_S, PROBE_TIMEOUT_S
)
#: A 503 "fast": within a few times the API's own longest bound (the headroom absorbs a loaded
#: two-core machine), and far below the client's timeout, so a request that hung on a dead
#: dependency still fails. How fast it really is belongs to benchmarks/, not here.
FAST_503_S = 4 * DEPENDENCY_BOUND_S
assert FAST_503_S <= CLIENT_TIMEOUT_S / 2

#: Every variable the API reads; a test server never inherits one from the outer environment.
API_VARIABLES = (
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS_FILE",
    "AUTH_JWKS_URL",
    "AUTH_PUBLIC_READS",
    "METRICS_HOST",
    "METRICS_PORT",
    "MAX_BODY_BYTES",
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD_FILE",
    "ORDERS_TOPIC",
    "EVENTS_TOPIC",
    "MYSQL_WRITER",
    "MYSQL_READER",
    "MYSQL_DATABASE",
    "MYSQL_USER",
    "MYSQL_PASSWORD_FILE",
    "MYSQL_TLS",
    "REDIS_URL",
    "REDIS_PASSWORD_FILE",
    "PRODUCT_CACHE_TTL_S",
    "IDEMPOTENCY_TTL_S",
)


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    return free_port()


def unique_sku(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12].upper()}"


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# -- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    text: str
    elapsed: float

    @property
    def json(self) -> Any:
        return json.loads(self.text)

    def __repr__(self) -> str:  # what a failed assertion shows
        return f"Reply({self.status}, {self.text[:500]!r}, {self.elapsed * 1000:.0f} ms)"


@dataclass(frozen=True)
class ApiClient:
    port: int
    timeout: float = CLIENT_TIMEOUT_S
    #: Sent as ``Authorization: Bearer`` unless a request names its own Authorization.
    token: str | None = field(default=None, repr=False)
    #: The internal listener of /metrics.
    metrics_port: int | None = None

    def anonymous(self) -> ApiClient:
        return ApiClient(self.port, self.timeout, None, self.metrics_port)

    def metrics(self) -> Reply:
        assert self.metrics_port is not None, "this API's metrics port is unknown"
        return ApiClient(self.metrics_port, self.timeout).get("/metrics")

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        """``body`` is sent as JSON; ``raw`` as it is (a body that is not JSON, say)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        sent = dict(headers or {})
        if self.token is not None and not any(k.lower() == "authorization" for k in sent):
            sent["Authorization"] = f"Bearer {self.token}"
        payload = raw
        if body is not None:
            payload = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        started = time.perf_counter()
        try:
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            text = response.read().decode()
            elapsed = time.perf_counter() - started
            return Reply(
                response.status, {k.lower(): v for k, v in response.getheaders()}, text, elapsed
            )
        finally:
            conn.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def put(self, path: str, body: Any) -> Reply:
        return self.request("PUT", path, body)

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> Reply:
        return self.request("POST", path, body, headers)

    def order(self, body: Any, key: str | None = None) -> Reply:
        """POST /v1/orders with an Idempotency-Key (a fresh one unless given)."""
        return self.post(
            "/v1/orders", body, {"Idempotency-Key": str(uuid.uuid4()) if key is None else key}
        )

    def healthy(self) -> bool:
        try:
            return self.get("/healthz").status == 200
        except OSError:
            return False

    def ready(self) -> Reply:
        return self.get("/readyz")


# -- the API as a process ---------------------------------------------------------------------

#: Issuer name -> a token with every scope, registered by the fixture that made the issuer.
TOKENS: dict[str, str] = {}


@dataclass
class ApiServer:
    """``python -m platform_api`` on a free loopback port, as it runs in production."""

    environment: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def client(self) -> ApiClient:
        metrics = self.environment.get("METRICS_PORT")
        return ApiClient(
            self.port,
            token=self.environment_token,
            metrics_port=int(metrics) if metrics else None,
        )

    @property
    def environment_token(self) -> str | None:
        """A token for this API, minted with every scope by the tests' issuer (conftest)."""
        return TOKENS.get(self.environment.get("AUTH_ISSUER", ""))

    def start(self, timeout: float = 30) -> ApiClient:
        env = {k: v for k, v in os.environ.items() if k not in API_VARIABLES}
        env.update(self.environment)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "platform_api",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while not self.client.healthy():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"the API did not start:\n{self.log()}")
            time.sleep(0.1)
        return self.client

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


@contextlib.contextmanager
def running_api(environment: dict[str, str], log_path: Path) -> Iterator[ApiClient]:
    server = ApiServer(environment, log_path)
    client = server.start()
    try:
        yield client
    finally:
        server.stop()


# -- a link that can be cut -------------------------------------------------------------------


class CuttableLink:
    """A loopback TCP forwarder to ``target``. ``cut()`` drops every connection and refuses new
    ones, as a failed node or a partition does; ``restore()`` accepts again on the same port.
    A network fault between real processes, not a patched client."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._accepting = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def restore(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.05)
        self._listener = listener
        self._accepting.set()
        self._spawn(self._accept, listener)

    def cut(self) -> None:
        self._accepting.clear()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        threads, self._threads = self._threads, []
        for thread in threads:
            thread.join(timeout=5)
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while self._accepting.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=2)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def cuttable_link(target: tuple[str, int]) -> Iterator[CuttableLink]:
    link = CuttableLink(target)
    link.restore()
    try:
        yield link
    finally:
        link.cut()


# -- Kafka ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TopicRecord:
    key: bytes | None
    value: bytes
    headers: dict[str, bytes]


def records_on(bootstrap: str, topic: str, timeout: float = 20) -> list[TopicRecord]:
    """Everything on the topic right now: each partition read from its start to its end."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": unique_id("api-test-reader"),
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends: dict[int, int] = {}
        assignment = []
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > low:
                ends[partition] = high
                assignment.append(TopicPartition(topic, partition, low))
        consumer.assign(assignment)
        records: list[TopicRecord] = []
        deadline = time.monotonic() + timeout
        while ends and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            records.append(
                TopicRecord(message.key(), message.value() or b"", dict(message.headers() or []))
            )
            if message.offset() + 1 >= ends.get(message.partition(), 0):
                ends.pop(message.partition(), None)
        assert not ends, f"could not read {topic} to its end within {timeout:.0f}s"
        return records
    finally:
        consumer.close()


def metric_value(metrics_text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text, or None when the series is absent."""
    for line in metrics_text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        if series.split("{", 1)[0] != name:
            continue
        found = dict(
            part.split("=", 1) for part in series.partition("{")[2].rstrip("}").split(",") if part
        )
        if all(found.get(k) == json.dumps(v) for k, v in labels.items()):
            return float(value)
    return None
