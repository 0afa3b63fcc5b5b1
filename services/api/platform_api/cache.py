"""Redis: the client the API shares, and the product cache (cache-aside reads, written through on
update).

An update stores the new copy itself rather than deleting the old one, and a read only fills a
key that holds nothing: a read that missed and went to the replica may carry a row from before
the update (the replica lags), and its fill must not replace the copy the update stored, or the
old product would be served, and orders priced at it, for the whole TTL. Updates of one product
write their copies in the order their rows commit: each writes before its commit, while the
row's lock holds the next update back (``Database.upsert_product``).

A cache must never turn a Redis outage into an API outage: a read that cannot reach Redis is a
miss (MySQL answers), a fill that fails is skipped. The outage is logged once when it starts and
once when it ends, not on every request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Literal, TypeVar

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from platform_api.errors import DependencyUnavailableError
from platform_api.metrics import CACHE_INVALIDATION_FAILURES, CACHE_LOOKUPS
from platform_api.settings import Settings

log = logging.getLogger(__name__)

#: Redis answers in well under a millisecond; a quarter second without an answer is an outage.
REDIS_TIMEOUT_S = 0.25
REDIS_MAX_CONNECTIONS = 64

CacheResult = Literal["hit", "miss", "error"]
T = TypeVar("T")

_HITS, _MISSES, _ERRORS = (CACHE_LOOKUPS.labels(result=r) for r in ("hit", "miss", "error"))


def redis_client(settings: Settings) -> aioredis.Redis:
    """One pooled client, no retries inside redis-py: each call fails fast, the caller decides."""
    password = settings.redis_password()
    return aioredis.Redis.from_url(
        settings.redis_url,
        password=password.get_secret_value() if password else None,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        retry=Retry(NoBackoff(), 0),
        max_connections=REDIS_MAX_CONNECTIONS,
        health_check_interval=30,
    )


async def bounded(operation: Awaitable[T]) -> T:
    """Await one Redis call under the deadline; an unreachable Redis becomes a 503 error."""
    try:
        async with asyncio.timeout(REDIS_TIMEOUT_S):
            return await operation
    except (RedisError, OSError, TimeoutError) as exc:
        raise DependencyUnavailableError("redis", _describe(exc)) from None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {REDIS_TIMEOUT_S:g} s"
    return f"{exc.__class__.__name__}: {exc}" if str(exc) else exc.__class__.__name__


class ProductCache:
    """``product:{sku}`` holds the product's JSON for ``ttl_s`` seconds."""

    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._outage = False

    @staticmethod
    def key(sku: str) -> str:
        return f"product:{sku}"

    async def get(self, sku: str) -> tuple[bytes | None, CacheResult]:
        """The cached product JSON, served as stored: no parse and re-dump on the hot path."""
        try:
            raw = await bounded(self._client.get(self.key(sku)))
        except DependencyUnavailableError as exc:
            self._note_outage(exc)
            _ERRORS.inc()
            return None, "error"
        self._note_healthy()
        if not isinstance(raw, bytes) or not raw.startswith(b"{"):
            _MISSES.inc()
            return None, "miss"
        _HITS.inc()
        return raw, "hit"

    async def get_many(self, skus: list[str]) -> tuple[dict[str, bytes], CacheResult]:
        """The cached JSON of each SKU found (one MGET); ``"error"`` when Redis is unreachable."""
        try:
            values = await bounded(self._client.mget([self.key(sku) for sku in skus]))
        except DependencyUnavailableError as exc:
            self._note_outage(exc)
            _ERRORS.inc(len(skus))
            return {}, "error"
        self._note_healthy()
        found = {
            sku: raw
            for sku, raw in zip(skus, values, strict=True)
            if isinstance(raw, bytes) and raw.startswith(b"{")
        }
        _HITS.inc(len(found))
        _MISSES.inc(len(skus) - len(found))
        return found, "hit" if len(found) == len(skus) else "miss"

    async def fill(self, sku: str, payload: bytes) -> None:
        """Store a product's JSON (``Product.model_dump_json()``) read from MySQL for the TTL,
        unless the key already holds a copy: an update's copy is never replaced by a read."""
        try:
            await bounded(self._client.set(self.key(sku), payload, ex=self._ttl_s, nx=True))
        except DependencyUnavailableError as exc:
            self._note_outage(exc)

    async def store(self, sku: str, payload: bytes) -> bool:
        """Replace the cached copy with an update's; False when Redis could not be reached
        (an older copy then expires within the TTL, which bounds how stale a read can be)."""
        try:
            await bounded(self._client.set(self.key(sku), payload, ex=self._ttl_s))
        except DependencyUnavailableError as exc:
            CACHE_INVALIDATION_FAILURES.inc()
            log.warning("could not replace %s: %s", self.key(sku), exc.message)
            return False
        self._note_healthy()
        return True

    async def forget(self, sku: str) -> None:
        """Drop the cached copy (the next read fills it from MySQL); an outage is only logged,
        and the copy then expires within the TTL."""
        try:
            await bounded(self._client.delete(self.key(sku)))
        except DependencyUnavailableError as exc:
            CACHE_INVALIDATION_FAILURES.inc()
            log.warning("could not drop %s: %s", self.key(sku), exc.message)

    def _note_outage(self, exc: DependencyUnavailableError) -> None:
        if not self._outage:
            self._outage = True
            log.warning("product cache bypassed, reading MySQL directly: %s", exc.message)

    def _note_healthy(self) -> None:
        if self._outage:
            self._outage = False
            log.warning("product cache is back: Redis answers again")
