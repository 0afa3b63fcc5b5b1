"""The two write paths: an order (with its idempotency key) and a batch of marketing events.

Both answer 202 only after the broker acknowledged every record, and 503 otherwise. For an order
with an ``Idempotency-Key`` the key settles with the record: acknowledged, the answer is stored
for replay; failed, the key is released so a retry starts afresh. A record still unconfirmed when
the request is answered keeps the key reserved until its delivery report arrives (about a second
later), so a quick retry gets 409 rather than creating a second order.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from platform_events.models import encode_event, headers_for

from platform_api.errors import DependencyUnavailableError
from platform_api.idempotency import IdempotencyStore, Replay, Reservation, fingerprint
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
    _background: set[asyncio.Task[None]] = field(default_factory=set)

    async def order(
        self, order: OrderInput, prices: dict[str, int], idempotency_key: str | None
    ) -> Answer:
        event = order.to_event(prices)
        record = Record(
            topic=self.orders_topic,
            key=str(event.order.order_id).encode(),
            value=encode_event(event),
            headers=headers_for(event),
        )
        accepted = OrderAccepted(
            order_id=event.order.order_id,
            event_id=event.event_id,
            total_cents=event.order.total_cents,
            currency=event.order.currency,
        )
        body = accepted.model_dump(mode="json")
        if idempotency_key is None:
            await self._publish_one(record)
            return Answer(202, body)

        held = await self.idempotency.reserve(
            "orders", idempotency_key, fingerprint(order.model_dump(mode="json"))
        )
        if isinstance(held, Replay):
            return Answer(held.status, held.body, replayed=True)
        try:
            outcome = await self.publisher.publish([record])
        except Exception:
            await self.idempotency.release(held)
            raise
        if outcome.ok:
            await self.idempotency.complete(held, 202, body)
            return Answer(202, body)
        if outcome.unconfirmed:
            outcome.unconfirmed[0].add_done_callback(
                lambda report: self._spawn(self._settle_late(held, report, body))
            )
        else:
            await self.idempotency.release(held)
        raise DependencyUnavailableError("kafka", outcome.reason or "not acknowledged")

    async def _publish_one(self, record: Record) -> None:
        outcome = await self.publisher.publish([record])
        if not outcome.ok:
            raise DependencyUnavailableError("kafka", outcome.reason or "not acknowledged")

    async def _settle_late(
        self, held: Reservation, report: asyncio.Future[None], body: dict[str, Any]
    ) -> None:
        if report.cancelled() or report.exception() is not None:
            await self.idempotency.release(held)
        else:
            # The order exists after all: a retry with the key now gets its 202.
            await self.idempotency.complete(held, 202, body)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

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
