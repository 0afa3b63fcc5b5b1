"""Event payloads, JSON on the wire. Every event carries a unique ``event_id``: the consumer
applies an event at most once by that id, so a redelivered record changes nothing.

Topics (names per environment in environments/*.yaml, ``kafka.topics``):
- orders: ``order.created``, keyed by ``order_id`` (all events of an order stay in order);
- marketing events: ``impression`` | ``click`` | ``conversion``, keyed by ``campaign_id``.

Kafka headers on every record: ``event-type`` and ``event-id`` (UTF-8), and
``content-type: application/json``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

SKU = Annotated[str, Field(pattern=r"^[A-Z0-9][A-Z0-9-]{0,63}$")]
IDENTIFIER = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]

EVENT_TYPES = ("order.created", "impression", "click", "conversion")

#: The years a consumer can store: MySQL's DATETIME holds 1000-01-01 to 9999-12-31.
EARLIEST_YEAR = 1000


def _in_utc(moment: datetime) -> datetime:
    """``occurred_at`` in UTC (a naive value is taken as UTC already).

    A value near the ends of the datetime range (``9999-12-31T23:59:59-01:00``) has no UTC
    equivalent: it is refused here, as a schema violation, rather than raising OverflowError in
    whatever converts it later.
    """
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    except OverflowError:
        raise ValueError("occurred_at is outside the range of UTC datetimes") from None
    if utc.year < EARLIEST_YEAR:
        raise ValueError(f"occurred_at must be in the year {EARLIEST_YEAR} or later")
    return utc


UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: UUID
    occurred_at: UtcDatetime


class OrderLine(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: SKU
    quantity: int = Field(ge=1, le=10_000)
    unit_price_cents: int = Field(ge=0, le=100_000_000)


class OrderPayload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    order_id: UUID
    customer_id: IDENTIFIER
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    lines: list[OrderLine] = Field(min_length=1, max_length=500)

    @property
    def total_cents(self) -> int:
        return sum(line.quantity * line.unit_price_cents for line in self.lines)

    @model_validator(mode="after")
    def _distinct_skus(self) -> OrderPayload:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each sku appears once per order; add up the quantities")
        return self


class OrderCreated(_Event):
    type: Literal["order.created"] = "order.created"
    order: OrderPayload


class MarketingEvent(_Event):
    type: Literal["impression", "click", "conversion"]
    campaign_id: IDENTIFIER
    user_id: IDENTIFIER | None = None
    #: Only for conversions: the value the conversion brought.
    value_cents: int = Field(default=0, ge=0, le=100_000_000)

    @model_validator(mode="after")
    def _value_only_for_conversions(self) -> MarketingEvent:
        if self.value_cents and self.type != "conversion":
            raise ValueError("value_cents applies to conversions only")
        return self


AnyEvent = Annotated[OrderCreated | MarketingEvent, Field(discriminator="type")]
_ADAPTER: TypeAdapter[OrderCreated | MarketingEvent] = TypeAdapter(AnyEvent)


def decode_event(raw: bytes) -> OrderCreated | MarketingEvent:
    """Parse one record value; raises ``ValueError`` (pydantic's ValidationError) if malformed."""
    return _ADAPTER.validate_json(raw)


def encode_event(event: OrderCreated | MarketingEvent) -> bytes:
    return event.model_dump_json().encode()


def headers_for(event: OrderCreated | MarketingEvent) -> list[tuple[str, bytes]]:
    return [
        ("event-type", event.type.encode()),
        ("event-id", str(event.event_id).encode()),
        ("content-type", b"application/json"),
    ]
