"""The clients one process holds (MySQL pools, Redis, the Kafka producer) and readiness.

Nothing here connects at start: the process comes up, answers /healthz and reports in /readyz
what it cannot reach, and each client reconnects by itself when its service returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from platform_api.auth import Authenticator, KeySource
from platform_api.cache import ProductCache, bounded, redis_client
from platform_api.db import Database
from platform_api.errors import DependencyUnavailableError
from platform_api.idempotency import IdempotencyStore
from platform_api.metrics import DEPENDENCY_UP
from platform_api.pricing import Pricing
from platform_api.publisher import PROBE_TIMEOUT_S, Publisher
from platform_api.settings import Settings
from platform_api.submissions import Submissions

log = logging.getLogger(__name__)

#: Above each client's own deadline: only a wedged client ever reaches it.
READINESS_GUARD_S = PROBE_TIMEOUT_S + 0.25

#: The dependencies without which the pod should leave the load balancer (issue 19 item 10).
#: MySQL only: every route but POST /v1/events reads or writes it (product misses, inventory,
#: stats, product updates, and orders: prices and idempotency keys), so a pod that cannot
#: reach it serves almost nothing. Redis is a cache (misses fall through to MySQL) and Kafka
#: carries orders and events only (answered 503 with Retry-After while it is down, and both
#: are shared by every replica, so taking all of them out of service would also stop the reads
#: that still work): either down leaves the pod ready but "degraded".
REQUIRED_FOR_READINESS = frozenset({"mysql"})


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: aioredis.Redis
    cache: ProductCache
    publisher: Publisher
    submissions: Submissions
    pricing: Pricing
    auth: Authenticator

    @classmethod
    async def start(cls, settings: Settings) -> Runtime:
        keys = KeySource(settings.auth_jwks_file, settings.auth_jwks_url)
        keys.load_now()
        auth = Authenticator(settings.auth_issuer, settings.auth_audience, keys)
        db = Database(settings)
        await db.start()
        redis = redis_client(settings)
        publisher = Publisher(settings)
        publisher.start()
        submissions = Submissions(
            publisher=publisher,
            idempotency=IdempotencyStore(db),
            orders_topic=settings.orders_topic,
            events_topic=settings.events_topic,
        )
        cache = ProductCache(redis, settings.product_cache_ttl_s)
        return cls(settings, db, redis, cache, publisher, submissions, Pricing(cache, db), auth)

    async def close(self) -> None:
        await self.publisher.close()
        await self.redis.aclose()
        await self.db.close()

    async def readiness(self) -> dict[str, str]:
        """Each dependency checked at once, in parallel: ``"ok"`` or ``"down"``."""
        names = ("redis", "mysql", "kafka")
        results = await asyncio.gather(
            _check("redis", self._redis_ping()),
            _check("mysql", self.db.ping()),
            _check("kafka", self._kafka()),
        )
        return dict(zip(names, results, strict=True))

    async def _redis_ping(self) -> None:
        await bounded(self.redis.ping())

    async def _kafka(self) -> None:
        problem = await self.publisher.check()
        if problem is not None:
            raise DependencyUnavailableError("kafka", problem)


async def _check(name: str, probe: Coroutine[Any, Any, None]) -> str:
    """``"ok"`` or ``"down"``: the public /readyz says which, the log says why (issue 19 item 6:
    the Redis error's host and port were in the public body)."""
    try:
        async with asyncio.timeout(READINESS_GUARD_S):
            await probe
    except DependencyUnavailableError as exc:
        why = exc.detail
    except TimeoutError:
        why = f"no answer within {READINESS_GUARD_S:g} s"
    else:
        DEPENDENCY_UP.labels(name).set(1)
        return "ok"
    DEPENDENCY_UP.labels(name).set(0)
    log.warning("readiness: %s is down: %s", name, why)
    return "down"
