"""The two write paths: an order (with its idempotency key) and a batch of marketing events.

Both answer 202 only after the broker acknowledged every record, and 503 otherwise. An order's
``Idempotency-Key`` stands for one event, stored in MySQL before anything is published
(idempotency.py): every request with the key publishes that same record, so a 503 followed by
a retry, or two racing requests, make one order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from platform_events.ids import new_id
from platform_events.models import OrderCreated, decode_event, encode_event, headers_for

from platform_api.errors import DependencyUnavailableError
from platform_api.idempotency import IdempotencyStore, fingerprint
from platform_api.publisher import Publisher, Record
from platform_api.schemas import EventBatchInput, EventsAccepted, OrderAccepted, OrderInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


@dataclass
class Submissions:
    publisher: Publisher
    idempotency: IdempotencyStore
    orders_topic: str
    events_topic: str

    async def order(
        self, order: OrderInput, prices: dict[str, int], principal: str, idempotency_key: str
    ) -> Answer:
        # New ids (UUIDv7) for a first request; a key seen before stands for its stored event
        # instead, whatever this request would have made (claim() below).
        event = OrderCreated(
            event_id=new_id(),
            occurred_at=datetime.now(UTC),
            order=order.to_payload(new_id(), prices),
        )
        claim = await self.idempotency.claim(
            "orders",
            principal,
            idempotency_key,
            fingerprint(order.model_dump(mode="json")),
            str(event.event_id),
            encode_event(event),
        )
        if claim.body is not None and claim.status is not None:
            return Answer(claim.status, claim.body, replayed=True)
        # The key's own event (the first request's, on a retry): the same bytes every time.
        stored = decode_event(claim.event)
        assert isinstance(stored, OrderCreated)  # noqa: S101 - only orders are stored
        await self._publish_one(
            Record(
                topic=self.orders_topic,
                key=str(stored.order.order_id).encode(),
                value=claim.event,
                headers=headers_for(stored),
            )
        )
        body = OrderAccepted(
            order_id=stored.order.order_id,
            event_id=stored.event_id,
            total_cents=stored.order.total_cents,
            currency=stored.order.currency,
        ).model_dump(mode="json")
        await self.idempotency.complete(principal, idempotency_key, 202, body)
        return Answer(202, body, replayed=not claim.first)

    async def _publish_one(self, record: Record) -> None:
        outcome = await self.publisher.publish([record])
        if not outcome.ok:
            raise DependencyUnavailableError("kafka", outcome.reason or "not acknowledged")

    async def events(self, batch: EventBatchInput) -> Answer:
        events = [item.to_event() for item in batch.events]
        records = [
            Record(
                topic=self.events_topic,
                key=event.campaign_id.encode(),
                value=encode_event(event),
                headers=headers_for(event),
            )
            for event in events
        ]
        outcome = await self.publisher.publish(records)
        if not outcome.ok:
            # Which ones to send again (failed: not on the topic), and which may yet land.
            raise DependencyUnavailableError(
                "kafka",
                outcome.reason or "not acknowledged",
                delivered=outcome.delivered,
                failed_indexes=outcome.failed,
                unconfirmed_indexes=outcome.unconfirmed_indexes,
            )
        return Answer(202, EventsAccepted(accepted=len(records)).model_dump())
