"""Inventory: stock per warehouse and the total, from the MySQL reader."""

from __future__ import annotations

import pytest

from tests.services.api.conftest import Catalogue
from tests.services.api.support import ApiClient, unique_sku

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]


def test_stock_per_warehouse_and_the_total(api: ApiClient, catalogue: Catalogue) -> None:
    reply = api.get(f"/v1/inventory/{catalogue.stocked}")
    assert reply.status == 200, reply
    assert reply.json == {
        "sku": catalogue.stocked,
        "warehouses": [
            {"warehouse": "eu-west", "quantity": 7},
            {"warehouse": "us-east", "quantity": 5},
        ],
        "total": 12,
    }


def test_a_product_without_stock_has_a_total_of_zero(api: ApiClient, catalogue: Catalogue) -> None:
    reply = api.get(f"/v1/inventory/{catalogue.bare}")
    assert reply.status == 200, reply
    assert reply.json == {"sku": catalogue.bare, "warehouses": [], "total": 0}


def test_inventory_of_an_unknown_product_is_404(api: ApiClient) -> None:
    sku = unique_sku("ABSENT")
    reply = api.get(f"/v1/inventory/{sku}")
    assert reply.status == 404, reply
    assert reply.json == {"error": f"product {sku} not found"}
