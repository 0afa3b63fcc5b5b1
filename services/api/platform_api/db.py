"""MySQL through aiomysql: a writer pool and a reader pool, every operation under one deadline.

The pools start empty (``minsize=0``), so the API starts and answers while MySQL is down; a
connection is made on first use and dropped when MySQL closes it, so the API recovers by itself
when MySQL comes back. Any failure to reach MySQL within ``OPERATION_TIMEOUT_S`` becomes a 503.

A request that finds every pooled connection in use waits for one, up to ``POOL_WAIT_S``, and
only then gets its ``OPERATION_TIMEOUT_S``: a burst of more requests than connections queues
in the API instead of being answered 503 as if MySQL were down (it was, under wrk with 64
connections, before the two deadlines were separated).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import aiomysql  # type: ignore[import-untyped]  # aiomysql ships no type information
import pymysql

from platform_api.errors import DependencyUnavailableError
from platform_api.schemas import CampaignStats, Inventory, Product, ProductInput, WarehouseStock
from platform_api.settings import Settings, split_host_port

Role = Literal["writer", "reader"]
T = TypeVar("T")

log = logging.getLogger(__name__)

#: Connect and query together: a primary-key lookup takes milliseconds, so half a second is an
#: outage, not a slow query, and the client hears 503 well within a second.
OPERATION_TIMEOUT_S = 0.5
#: Waiting for a pooled connection another request holds: the API is busy, MySQL is not down.
POOL_WAIT_S = 5.0
CONNECT_TIMEOUT_S = 0.5
#: Reconnect now and then: after a failover the endpoint's DNS name points somewhere else.
POOL_RECYCLE_S = 300

_UNREACHABLE = (pymysql.err.OperationalError, pymysql.err.InterfaceError, OSError)


class Database:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._pools: dict[Role, Any] = {}
        #: One per pooled connection: a request holds one from before it takes a connection
        #: until it gives it back, so the pool itself never makes anyone wait.
        self._slots: dict[Role, asyncio.Semaphore] = {}

    async def start(self) -> None:
        settings = self._settings
        password = settings.mysql_password().get_secret_value()
        tls = ssl.create_default_context() if settings.mysql_tls else None
        endpoints: dict[Role, str] = {
            "writer": settings.mysql_writer,
            "reader": settings.mysql_reader,
        }
        for role, address in endpoints.items():
            host, port = split_host_port(address)
            self._slots[role] = asyncio.Semaphore(settings.mysql_pool_size)
            self._pools[role] = await aiomysql.create_pool(
                minsize=0,
                maxsize=settings.mysql_pool_size,
                pool_recycle=POOL_RECYCLE_S,
                host=host,
                port=port,
                user=settings.mysql_user,
                password=password,
                db=settings.mysql_database,
                charset="utf8mb4",
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                ssl=tls,
                cursorclass=aiomysql.DictCursor,
            )

    async def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
            await pool.wait_closed()
        self._pools.clear()

    async def run(self, role: Role, operation: Callable[[Any], Awaitable[T]]) -> T:
        """``operation(cursor)`` on a pooled connection of ``role``, under the deadline."""
        return await self._run(role, operation)

    async def _run(self, role: Role, operation: Callable[[Any], Awaitable[T]]) -> T:
        pool, slots = self._pools[role], self._slots[role]
        try:
            async with asyncio.timeout(POOL_WAIT_S):
                await slots.acquire()
        except TimeoutError:
            raise DependencyUnavailableError(
                "mysql",
                f"all {pool.maxsize} connections to the {role} stayed in use for {POOL_WAIT_S:g} s",
            ) from None
        try:
            async with asyncio.timeout(OPERATION_TIMEOUT_S):
                conn = await pool.acquire()
                try:
                    async with conn.cursor() as cursor:
                        return await operation(cursor)
                except BaseException:
                    # A query cut short leaves the connection mid-protocol: never reuse it.
                    conn.close()
                    raise
                finally:
                    pool.release(conn)
        except TimeoutError:
            raise DependencyUnavailableError(
                "mysql", f"the {role} did not answer within {OPERATION_TIMEOUT_S:g} s"
            ) from None
        except _UNREACHABLE as exc:
            raise DependencyUnavailableError(
                "mysql", f"the {role} is unreachable ({exc.__class__.__name__})"
            ) from None
        finally:
            slots.release()

    async def ping(self) -> None:
        async def select_one(cursor: Any) -> None:
            await cursor.execute("SELECT 1")
            await cursor.fetchall()

        await self._run("reader", select_one)

    async def product(self, sku: str) -> Product | None:
        async def fetch(cursor: Any) -> Product | None:
            await cursor.execute(
                "SELECT sku, name, description, price_cents, currency, updated_at"
                " FROM products WHERE sku = %s",
                (sku,),
            )
            row = await cursor.fetchone()
            return None if row is None else Product.model_validate(row)

        return await self._run("reader", fetch)

    async def products(self, skus: list[str], role: Role = "reader") -> list[Product]:
        """The products among ``skus`` (one query); an unknown SKU is simply absent."""

        async def fetch(cursor: Any) -> list[Product]:
            marks = ",".join(["%s"] * len(skus))
            columns = "sku, name, description, price_cents, currency, updated_at"
            query = f"SELECT {columns} FROM products WHERE sku IN ({marks})"  # noqa: S608 - %s only
            await cursor.execute(query, skus)
            return [Product.model_validate(row) for row in await cursor.fetchall()]

        return await self._run(role, fetch)

    async def upsert_product(
        self,
        sku: str,
        product: ProductInput,
        before_commit: Callable[[Product], Awaitable[object]] | None = None,
    ) -> tuple[Product, bool]:
        """Insert or update on the writer; returns the stored row and whether it was created.

        ``before_commit`` gets the row while the transaction still holds its lock: an update of
        the same product waits for that commit, so what it does (the cache's copy) happens in
        the order the rows are committed. A failure after it rolls the row back."""

        async def upsert(cursor: Any) -> tuple[Product, bool]:
            await cursor.execute("START TRANSACTION")
            affected = await cursor.execute(
                "INSERT INTO products (sku, name, description, price_cents, currency, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, UTC_TIMESTAMP())"
                " ON DUPLICATE KEY UPDATE name = VALUES(name),"
                " description = VALUES(description), price_cents = VALUES(price_cents),"
                " currency = VALUES(currency), updated_at = UTC_TIMESTAMP()",
                (sku, product.name, product.description, product.price_cents, product.currency),
            )
            await cursor.execute(
                "SELECT sku, name, description, price_cents, currency, updated_at"
                " FROM products WHERE sku = %s",
                (sku,),
            )
            stored = Product.model_validate(await cursor.fetchone())
            if before_commit is not None:
                await before_commit(stored)
            # Closing the connection on any failure (see _run) rolls back what is not committed.
            await cursor.execute("COMMIT")
            # MySQL counts 1 for an inserted row, 2 for an updated one, 0 for no change.
            return stored, affected == 1

        return await self._run("writer", upsert)

    async def inventory(self, sku: str) -> Inventory | None:
        async def fetch(cursor: Any) -> Inventory | None:
            await cursor.execute(
                "SELECT i.warehouse, i.quantity FROM products p"
                " LEFT JOIN inventory i ON i.sku = p.sku"
                " WHERE p.sku = %s ORDER BY i.warehouse",
                (sku,),
            )
            rows = await cursor.fetchall()
            if not rows:
                return None
            stock = [WarehouseStock.model_validate(r) for r in rows if r["warehouse"] is not None]
            return Inventory(sku=sku, warehouses=stock, total=sum(s.quantity for s in stock))

        return await self._run("reader", fetch)

    async def campaign_stats(self, campaign_id: str) -> CampaignStats | None:
        async def fetch(cursor: Any) -> CampaignStats | None:
            await cursor.execute(
                "SELECT campaign_id, impressions, clicks, conversions, conversion_value_cents,"
                " updated_at FROM campaign_stats WHERE campaign_id = %s",
                (campaign_id,),
            )
            row = await cursor.fetchone()
            if row is None:
                return None
            impressions = int(row["impressions"])
            ctr = int(row["clicks"]) / impressions if impressions else None
            return CampaignStats.model_validate({**row, "ctr": ctr})

        return await self._run("reader", fetch)
