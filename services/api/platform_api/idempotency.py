"""Idempotency keys in Redis: ``SET NX`` reserves a key, the final answer replaces the reservation.

``idempotency:{scope}:{key}`` holds JSON, either

- ``{"state": "pending", "token": ..., "fingerprint": ...}`` while the first request runs: a
  concurrent duplicate gets 409. The reservation lives ``RESERVATION_TTL_S`` only, so a replica
  that dies mid-request cannot lock a key for a day; or
- ``{"state": "done", "fingerprint": ..., "status": ..., "body": ...}`` for ``IDEMPOTENCY_TTL_S``:
  a repeat gets exactly that answer again.

The fingerprint is a hash of the validated request: the same key with another body is a client
bug, answered 422 rather than silently replaying an unrelated answer.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from platform_api.cache import bounded
from platform_api.errors import ApiError, DependencyUnavailableError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
#: Visible ASCII, no spaces: UUIDs, ULIDs and the like.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
#: Longer than any request can take (the delivery wait, and the report of an unconfirmed record).
RESERVATION_TTL_S = 60

# Compare-and-set / compare-and-delete: only the holder of the reservation may settle it.
_COMPLETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return false
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True)
class Reservation:
    key: str
    value: str


@dataclass(frozen=True)
class Replay:
    status: int
    body: dict[str, Any]


def validate_key(raw: str | None) -> str | None:
    if raw is None:
        return None
    if not KEY_PATTERN.fullmatch(raw):
        raise ApiError(
            400,
            f"{HEADER} must be 1 to 255 visible ASCII characters without spaces",
            header=HEADER,
        )
    return raw


def fingerprint(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def storage_key(scope: str, key: str) -> str:
    return f"idempotency:{scope}:{key}"


class IdempotencyStore:
    def __init__(self, client: aioredis.Redis, ttl_s: int) -> None:
        self._client = client
        self._ttl_s = ttl_s
        self._complete = client.register_script(_COMPLETE)
        self._release = client.register_script(_RELEASE)

    async def reserve(self, scope: str, key: str, request_fingerprint: str) -> Reservation | Replay:
        """Reserve the key, or give back the answer stored under it.

        Raises 409 while another request holds it, 422 if it was used for another request body,
        503 if Redis cannot be reached (without Redis the API cannot keep its promise).
        """
        name = storage_key(scope, key)
        pending = json.dumps(
            {"state": "pending", "token": secrets.token_hex(8), "fingerprint": request_fingerprint}
        )
        for _ in range(2):  # a second try when the holder released it between SET and GET
            if await bounded(self._client.set(name, pending, nx=True, ex=RESERVATION_TTL_S)):
                return Reservation(name, pending)
            raw = await bounded(self._client.get(name))
            if raw is not None:
                return self._existing(json.loads(raw), request_fingerprint)
        raise ApiError(
            409, f"a request with this {HEADER} is in progress; retry later", retry_after_s=1
        )

    @staticmethod
    def _existing(stored: dict[str, Any], request_fingerprint: str) -> Replay:
        if stored.get("fingerprint") != request_fingerprint:
            raise ApiError(
                422, f"this {HEADER} was already used for a different request", header=HEADER
            )
        if stored.get("state") != "done":
            raise ApiError(
                409, f"a request with this {HEADER} is in progress; retry later", retry_after_s=1
            )
        return Replay(int(stored["status"]), dict(stored["body"]))

    async def complete(self, reservation: Reservation, status: int, body: dict[str, Any]) -> None:
        """Store the final answer in place of the reservation (only if we still hold it)."""
        stored = json.loads(reservation.value)
        final = json.dumps(
            {"state": "done", "fingerprint": stored["fingerprint"], "status": status, "body": body}
        )
        try:
            await bounded(
                self._complete(keys=[reservation.key], args=[reservation.value, final, self._ttl_s])
            )
        except DependencyUnavailableError as exc:
            log.warning("could not store the answer for %s: %s", reservation.key, exc.message)

    async def release(self, reservation: Reservation) -> None:
        """Give the key back: nothing was done, so a retry with it starts afresh."""
        try:
            await bounded(self._release(keys=[reservation.key], args=[reservation.value]))
        except DependencyUnavailableError as exc:
            log.warning(
                "could not release %s (it expires in %d s): %s",
                reservation.key,
                RESERVATION_TTL_S,
                exc.message,
            )
