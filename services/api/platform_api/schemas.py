"""Request and response bodies. Order and event inputs take their fields from the event contract
(``platform_events``), so a rule changed there is enforced here with no second copy."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from platform_events.ids import new_id
from platform_events.models import (
    IDENTIFIER,
    SKU,
    MarketingEvent,
    OrderCreated,
    OrderLine,
    OrderPayload,
)
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from pydantic.fields import FieldInfo

SKU_PATTERN = r"^[A-Z0-9][A-Z0-9-]{0,63}$"
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
MAX_EVENTS_PER_BATCH = 1000
#: Stands in for the ids the API assigns while an input is checked against the contract.
_PLACEHOLDER_ID = UUID(int=0)
_PLACEHOLDER_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def _as_utc(value: datetime) -> datetime:
    """MySQL DATETIME columns hold UTC (written with UTC_TIMESTAMP(), or CURRENT_TIMESTAMP in a
    session at +00:00) and come back naive: say so, so the answer is an RFC 3339 date-time
    ("...Z") as the OpenAPI document promises, not a local time of unknown zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: A time read from MySQL, answered in UTC with its offset.
UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


def _order_field(name: str) -> FieldInfo:
    return OrderPayload.model_fields[name]


def _event_field(name: str) -> FieldInfo:
    return MarketingEvent.model_fields[name]


def _contract_errors(exc: ValidationError) -> str:
    return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProductInput(_Input):
    name: str = Field(min_length=1, max_length=200)
    # TEXT holds 65,535 bytes: 10,000 characters fit even at four bytes each.
    description: str = Field(default="", max_length=10_000)
    price_cents: int = Field(ge=0, le=10**15)
    currency: str = Field(pattern=r"^[A-Z]{3}$")


class Product(BaseModel):
    sku: str
    name: str
    description: str
    price_cents: int
    currency: str
    updated_at: UtcDatetime


class WarehouseStock(BaseModel):
    warehouse: str
    quantity: int


class Inventory(BaseModel):
    sku: str
    warehouses: list[WarehouseStock]
    total: int


class CampaignStats(BaseModel):
    campaign_id: str
    impressions: int
    clicks: int
    conversions: int
    conversion_value_cents: int
    #: clicks / impressions; null until the campaign has an impression.
    ctr: float | None
    updated_at: UtcDatetime


class OrderLineInput(_Input):
    """A line as a client sends it: what and how many. The price is the catalogue's."""

    sku: SKU
    quantity: Annotated[int, OrderLine.model_fields["quantity"]]


class OrderInput(_Input):
    """An order as a client sends it: the contract's ``OrderPayload`` without ``order_id`` and
    without prices, which the API takes from ``products`` (a client never sets them)."""

    customer_id: Annotated[str, _order_field("customer_id")]
    currency: Annotated[str, _order_field("currency")]
    lines: list[OrderLineInput] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _contract_rules(self) -> OrderInput:
        try:
            self.to_payload(_PLACEHOLDER_ID, dict.fromkeys((line.sku for line in self.lines), 0))
        except ValidationError as exc:
            raise ValueError(_contract_errors(exc)) from None
        return self

    def to_payload(self, order_id: UUID, prices: dict[str, int]) -> OrderPayload:
        """The contract's order, each line at ``prices[sku]`` (cents, in ``currency``)."""
        return OrderPayload(
            order_id=order_id,
            customer_id=self.customer_id,
            currency=self.currency,
            lines=[
                OrderLine(sku=line.sku, quantity=line.quantity, unit_price_cents=prices[line.sku])
                for line in self.lines
            ],
        )

    def to_event(self, prices: dict[str, int]) -> OrderCreated:
        return OrderCreated(
            event_id=new_id(),
            occurred_at=datetime.now(UTC),
            order=self.to_payload(new_id(), prices),
        )


class MarketingEventInput(_Input):
    """One event as a client sends it: the contract's ``MarketingEvent`` without the envelope."""

    type: Annotated[Literal["impression", "click", "conversion"], _event_field("type")]
    campaign_id: Annotated[str, _event_field("campaign_id")]
    user_id: IDENTIFIER | None = None
    value_cents: Annotated[int, _event_field("value_cents")] = 0

    @model_validator(mode="after")
    def _contract_rules(self) -> MarketingEventInput:
        try:
            MarketingEvent(
                event_id=_PLACEHOLDER_ID, occurred_at=_PLACEHOLDER_TIME, **self.model_dump()
            )
        except ValidationError as exc:
            raise ValueError(_contract_errors(exc)) from None
        return self

    def to_event(self) -> MarketingEvent:
        return MarketingEvent(event_id=new_id(), occurred_at=datetime.now(UTC), **self.model_dump())


class EventBatchInput(_Input):
    events: list[MarketingEventInput] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)


class OrderAccepted(BaseModel):
    order_id: UUID
    event_id: UUID
    status: Literal["accepted"] = "accepted"
    #: What the order costs at the catalogue's prices when it was accepted.
    total_cents: int
    currency: str


class EventsAccepted(BaseModel):
    accepted: int
