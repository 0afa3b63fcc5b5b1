"""Idempotency keys, durable in MySQL: a key stands for one event, published as often as needed.

``POST /v1/orders`` requires an ``Idempotency-Key``. The first request with a key stores, under
the primary key ``(principal, key)`` of ``idempotency_keys``, the fingerprint of the request and
the exact event it makes: its ``event_id`` and ``order_id`` (minted once, UUIDv7), its prices as
the catalogue had them. The unique key binds those ids to the key: every later request with the
key, or one racing the first, publishes that same stored record, and the consumer applies an
event id once. So:

- a 503 whose record landed after all, then a retry: the same event again, one order;
- two requests racing with one key: both publish the same event, one order, the same answer;
- the answer could not be stored (MySQL lost after the broker's ack): nothing is lost, the next
  retry publishes the same record again and gets the same 202.

A key used again with another body is 422 (a client bug, never a silent replay of an unrelated
answer). Keys are scoped by principal, so two clients cannot collide or read each other's answers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import pymysql

from platform_api.db import Database
from platform_api.errors import ApiError, DependencyUnavailableError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
#: Visible ASCII, no spaces: UUIDs, ULIDs and the like.
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
_DUPLICATE_KEY = 1062


@dataclass(frozen=True)
class Claim:
    """What a key stands for: the record to publish, and the answer if one was stored."""

    event_id: str
    event: bytes
    status: int | None = None
    body: dict[str, Any] | None = None
    first: bool = True


def require_key(raw: str | None) -> str:
    if raw is None:
        raise ApiError(
            400,
            f"{HEADER} is required: a unique value per order (a UUID), sent again unchanged"
            " on every retry of that order",
            header=HEADER,
        )
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


class IdempotencyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(
        self,
        scope: str,
        principal: str,
        key: str,
        request_fingerprint: str,
        event_id: str,
        event: bytes,
    ) -> Claim:
        """Store what the key stands for, or read what it already stands for.

        422 when the key was used for another request body; 503 when MySQL cannot be reached
        (without the record of the key, the API cannot keep its promise).
        """

        async def insert_or_read(cursor: Any) -> Claim:
            try:
                await cursor.execute(
                    "INSERT INTO idempotency_keys"
                    " (principal, idem_key, scope, fingerprint, event_id, event, created_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s, UTC_TIMESTAMP())",
                    (principal, key, scope, request_fingerprint, event_id, event.decode()),
                )
            except pymysql.err.IntegrityError as exc:
                if exc.args[0] != _DUPLICATE_KEY:
                    raise
            else:
                return Claim(event_id, event)
            await cursor.execute(
                "SELECT scope, fingerprint, event_id, event, status, response"
                " FROM idempotency_keys WHERE principal = %s AND idem_key = %s",
                (principal, key),
            )
            row = await cursor.fetchone()
            if row is None:  # deleted in between: only a manual prune can do that
                raise DependencyUnavailableError("mysql", "the key changed meanwhile; retry")
            if row["scope"] != scope or row["fingerprint"] != request_fingerprint:
                raise ApiError(
                    422, f"this {HEADER} was already used for a different request", header=HEADER
                )
            body = None if row["response"] is None else json.loads(row["response"])
            stored = str(row["event"]).encode()
            return Claim(row["event_id"], stored, row["status"], body, first=False)

        return await self._db.run("writer", insert_or_read)

    async def complete(self, principal: str, key: str, status: int, body: dict[str, Any]) -> None:
        """Store the answer, so a retry replays it without publishing again. A failure here
        loses nothing: a retry publishes the same record again (applied once) instead."""

        async def update(cursor: Any) -> None:
            await cursor.execute(
                "UPDATE idempotency_keys SET status = %s, response = %s,"
                " completed_at = UTC_TIMESTAMP()"
                " WHERE principal = %s AND idem_key = %s AND status IS NULL",
                (status, json.dumps(body), principal, key),
            )

        try:
            await self._db.run("writer", update)
        except DependencyUnavailableError as exc:
            log.warning("answer for an idempotency key not stored: %s", exc.message)
