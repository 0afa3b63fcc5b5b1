"""Identifiers the platform mints: event and order ids.

UUIDv7 (RFC 9562): 48 bits of Unix milliseconds first, then random bits. Unique like a UUIDv4,
but ids made close in time sort close together, so the tables keyed by them (processed_events,
orders) take new rows at the end of their primary-key index and find recent ones in pages that
are already in memory. With random UUIDv4 keys every insert and every duplicate check touches a
random page: once the index outgrows InnoDB's buffer pool the consumer slows to a third
(benchmarks/consumer_throughput.py, docs/benchmarks.md). The timestamp in an order id says no
more than the order's created_at, which its owner sees anyway.
"""

from __future__ import annotations

from uuid import UUID

import uuid6


def new_id() -> UUID:
    """A time-ordered UUIDv7 as a standard ``uuid.UUID``."""
    return UUID(int=uuid6.uuid7().int)
