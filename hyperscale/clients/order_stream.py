"""A steady stream of orders into MySQL for drills: one order per transaction at a bounded
rate on a thread of its own, as the platform's consumer writes them, each commit remembered
with the time COMMIT returned (so a drill can say which orders a backup must hold)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from hyperscale.config.models import Endpoint
from hyperscale.errors import ExternalSystemError


@dataclass
class StreamTally:
    #: (order id, monotonic time its COMMIT returned), in commit order
    committed: list[tuple[str, float]] = field(default_factory=list)
    #: The longest a single commit took, in seconds (a backup's write pause shows here).
    slowest_commit: float = 0.0
    errors: list[str] = field(default_factory=list)


class OrderStream:
    def __init__(
        self,
        endpoint: Endpoint,
        user: str,
        password: str,
        database: str,
        *,
        rate: float,
        customer: str,
    ) -> None:
        self._where = (endpoint, user, password, database)
        self.rate = rate
        self.customer = customer
        self.tally = StreamTally()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="order-stream", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> StreamTally:
        self._stop.set()
        self._thread.join(timeout)
        return self.tally

    def _run(self) -> None:
        import pymysql

        try:
            conn = _connect(*self._where)
        except pymysql.MySQLError as exc:
            self.tally.errors.append(str(exc))
            return
        started = time.monotonic()
        index = 0
        with conn, conn.cursor() as cur:
            while not self._stop.is_set():
                order_id = str(uuid.uuid4())
                sent = time.monotonic()
                try:
                    cur.execute(
                        "INSERT INTO orders (order_id, customer_id, status, total_cents,"
                        " currency, created_at) VALUES (%s, %s, 'placed', %s, 'EUR', NOW())",
                        (order_id, self.customer, 100 + index),
                    )
                except pymysql.MySQLError as exc:
                    self.tally.errors.append(str(exc))
                    return
                done = time.monotonic()
                self.tally.committed.append((order_id, done))
                self.tally.slowest_commit = max(self.tally.slowest_commit, done - sent)
                index += 1
                ahead = started + index / self.rate - time.monotonic()
                if ahead > 0:
                    self._stop.wait(ahead)


def _connect(endpoint: Endpoint, user: str, password: str, database: str) -> Any:
    import pymysql

    return pymysql.connect(
        host=endpoint.host,
        port=endpoint.port,
        user=user,
        password=password,
        database=database,
        autocommit=True,
        connect_timeout=5,
    )


def orders_of(
    endpoint: Endpoint, user: str, password: str, database: str, customer: str
) -> set[str]:
    """The ids of ``customer``'s orders on the server at ``endpoint``."""
    import pymysql

    try:
        with _connect(endpoint, user, password, database) as conn, conn.cursor() as cur:
            cur.execute("SELECT order_id FROM orders WHERE customer_id = %s", (customer,))
            return {str(row[0]) for row in cur.fetchall()}
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"reading orders at {endpoint} failed: {exc}") from None


def delete_orders(
    endpoint: Endpoint, user: str, password: str, database: str, customer: str
) -> None:
    import pymysql

    try:
        with _connect(endpoint, user, password, database) as conn, conn.cursor() as cur:
            cur.execute("DELETE FROM orders WHERE customer_id = %s", (customer,))
    except pymysql.MySQLError as exc:
        raise ExternalSystemError(f"deleting the drill's orders at {endpoint}: {exc}") from None
