"""Prices come from the catalogue, never from the client.

An order names SKUs and quantities; each line is priced at the product's ``price_cents`` read
through the product cache (which every product update replaces, so a new price applies as soon
as the update is answered) with the MySQL writer behind it.
"""

from __future__ import annotations

import asyncio

from platform_events.models import OrderLine

from platform_api.cache import ProductCache
from platform_api.db import Database
from platform_api.errors import ApiError
from platform_api.schemas import OrderInput, Product

#: The contract's ceiling for one unit (``OrderLine.unit_price_cents``).
MAX_UNIT_PRICE_CENTS = next(
    int(m.le) for m in OrderLine.model_fields["unit_price_cents"].metadata if hasattr(m, "le")
)


class Pricing:
    def __init__(self, cache: ProductCache, db: Database) -> None:
        self._cache = cache
        self._db = db

    async def prices(self, order: OrderInput) -> dict[str, int]:
        """``{sku: unit price in cents}`` for every line; 422 naming the SKUs that cannot be
        sold as asked (unknown, priced in another currency, or above the order ceiling)."""
        skus = [line.sku for line in order.lines]
        products = await self._products(skus)
        unknown = [sku for sku in skus if sku not in products]
        if unknown:
            raise ApiError(422, "unknown sku: not in the catalogue", skus=unknown)
        other = [sku for sku in skus if products[sku].currency != order.currency]
        if other:
            raise ApiError(422, f"these products are not sold in {order.currency}", skus=other)
        dear = [sku for sku in skus if products[sku].price_cents > MAX_UNIT_PRICE_CENTS]
        if dear:
            raise ApiError(422, "these products cannot be ordered online", skus=dear)
        return {sku: products[sku].price_cents for sku in skus}

    async def _products(self, skus: list[str]) -> dict[str, Product]:
        cached, result = await self._cache.get_many(skus)
        products = {sku: Product.model_validate_json(raw) for sku, raw in cached.items()}
        missing = [sku for sku in skus if sku not in products]
        if not missing:
            return products
        # The writer, not the replica: a price updated a moment ago may not have reached the
        # replica yet, and an order must not be charged (or cached) at the old one.
        stored = await self._db.products(missing, role="writer")
        for product in stored:
            products[product.sku] = product
        if result != "error" and stored:
            await asyncio.gather(
                *(self._cache.fill(p.sku, p.model_dump_json().encode()) for p in stored)
            )
        return products
