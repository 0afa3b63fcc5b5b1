"""The API's inputs are the event contract's fields: the same JSON schema, no second copy."""

from __future__ import annotations

from typing import Any

import pytest
from platform_api.schemas import MarketingEventInput, OrderInput, OrderLineInput
from platform_events import MarketingEvent, OrderLine, OrderPayload
from pydantic import BaseModel


def field_schemas(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    return {name: {**field, "title": None} for name, field in schema["properties"].items()}


@pytest.mark.parametrize(
    ("api_model", "contract", "not_from_client"),
    [
        (OrderInput, OrderPayload, {"order_id", "lines"}),  # lines: OrderLineInput, below
        (OrderLineInput, OrderLine, {"unit_price_cents"}),  # prices are the catalogue's
        (MarketingEventInput, MarketingEvent, {"event_id", "occurred_at"}),
    ],
)
def test_input_fields_match_the_contract(
    api_model: type[BaseModel], contract: type[BaseModel], not_from_client: set[str]
) -> None:
    ours, theirs = field_schemas(api_model), field_schemas(contract)
    assert set(ours) - not_from_client == set(theirs) - not_from_client
    for name, schema in ours.items():
        if name not in not_from_client:
            assert schema == theirs[name], name


def test_an_order_line_has_the_contracts_bounds() -> None:
    ours = OrderInput.model_json_schema()["properties"]["lines"]
    theirs = OrderPayload.model_json_schema()["properties"]["lines"]
    assert (ours["minItems"], ours["maxItems"]) == (theirs["minItems"], theirs["maxItems"])
