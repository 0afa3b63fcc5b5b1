"""The HTTP routes. Each one parses, calls one client or flow, and shapes the answer.

Importable as ``platform_api.app:app``; settings are read from the environment when the
application starts (not at import), or passed to ``create_app`` directly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from platform_api import metrics
from platform_api.auth import Principal
from platform_api.errors import ApiError, DependencyUnavailableError
from platform_api.idempotency import HEADER, require_key
from platform_api.limits import BodySizeLimit
from platform_api.runtime import REQUIRED_FOR_READINESS, Runtime
from platform_api.schemas import (
    IDENTIFIER_PATTERN,
    SKU_PATTERN,
    CampaignStats,
    EventBatchInput,
    EventsAccepted,
    Inventory,
    OrderAccepted,
    OrderInput,
    Product,
    ProductInput,
)
from platform_api.settings import Settings
from platform_api.submissions import Answer

log = logging.getLogger(__name__)

Sku = Annotated[str, Path(pattern=SKU_PATTERN, description="Product SKU")]
CampaignId = Annotated[str, Path(pattern=IDENTIFIER_PATTERN, description="Campaign id")]
IdempotencyKey = Annotated[str | None, Header(alias=HEADER)]
Authorization = Annotated[str | None, Header()]


class _Started:
    """The process's clients, set by the lifespan. Routes read it directly rather than through
    ``Depends``: dependency resolution costs more per request than the cached read it serves."""

    runtime: Runtime | None = None

    def get(self) -> Runtime:
        if self.runtime is None:
            raise ApiError(503, "the API is starting or stopping", retry_after_s=1)
        return self.runtime


def _scope(name: str, *, public_if_configured: bool = False) -> Any:
    """A dependency that authenticates the request and checks one scope. It runs before the
    body is validated, so an unauthenticated client learns nothing about the body's rules."""

    async def check(request: Request, authorization: Authorization = None) -> Principal | None:
        rt = request.app.state.started.get()
        if public_if_configured and rt.settings.auth_public_reads:
            return None
        principal: Principal = await rt.auth.require(authorization, name)
        return principal

    return Depends(check)


CatalogRead = Annotated[Principal | None, _scope("catalog:read", public_if_configured=True)]
CatalogWrite = Annotated[Principal | None, _scope("catalog:write")]
OrdersWrite = Annotated[Principal | None, _scope("orders:write")]
EventsWrite = Annotated[Principal | None, _scope("events:write")]
StatsRead = Annotated[Principal | None, _scope("stats:read")]


def create_app(settings: Settings | None = None) -> FastAPI:
    started = _Started()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.start(settings or Settings())  # type: ignore[call-arg]  # from env
        internal = metrics.serve(runtime.settings.metrics_host, runtime.settings.metrics_port)
        started.runtime = runtime
        try:
            yield
        finally:
            started.runtime = None
            internal.shutdown()
            await runtime.close()

    app = FastAPI(
        title="hyperscale platform API",
        version="0.1.0",
        lifespan=lifespan,
        # Metrics are Prometheus (metrics.py); FastAPI's OpenTelemetry hooks would only add a
        # provider lookup to every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.started = started
    app.add_middleware(metrics.MetricsMiddleware)
    # Added last, so outermost: a body over the limit is refused before anything reads it.
    limit = settings.max_body_bytes if settings is not None else _max_body_from_env()
    app.add_middleware(BodySizeLimit, max_bytes=limit)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    _routes(app, started)
    return app


def _max_body_from_env() -> int:
    """``MAX_BODY_BYTES`` when the app is built before its settings are read (``app`` below)."""
    import os

    default = Settings.model_fields["max_body_bytes"].default
    raw = os.environ.get("MAX_BODY_BYTES", "")
    return int(raw) if raw.isdigit() else int(default)


async def _api_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise exc
    if isinstance(exc, DependencyUnavailableError):
        log.warning(
            "%s %s: 503, %s unavailable: %s",
            request.method,
            request.url.path,
            exc.dependency,
            exc.detail,
        )
    headers = dict(exc.headers)
    if exc.retry_after_s is not None:
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def _invalid_request(_request: Request, exc: Exception) -> Response:
    """422 naming each field (``lines.0.quantity``) and what is wrong, without echoing input."""
    if not isinstance(exc, RequestValidationError):  # registered for validation errors only
        raise exc
    problems = [
        {
            "loc": list(error["loc"]),
            "field": ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0]),
            "msg": str(error["msg"]).removeprefix("Value error, "),
            "type": error["type"],
        }
        for error in exc.errors()
    ]
    return JSONResponse({"error": "invalid request", "detail": problems}, status_code=422)


def _answer(answer: Answer) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status, headers=headers)


def _not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")


def _routes(app: FastAPI, started: _Started) -> None:
    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        # Public (the load balancer's health check): states only, never an error's text.
        # 503 only without a dependency the routes cannot do without (REQUIRED_FOR_READINESS);
        # any other one down is "degraded": still in service, named in "down".
        checks = await started.get().readiness()
        down = sorted(name for name, state in checks.items() if state != "ok")
        if REQUIRED_FOR_READINESS.intersection(down):
            body = {"status": "unavailable", "down": down, "checks": checks}
            return JSONResponse(body, status_code=503)
        if down:
            return JSONResponse({"status": "degraded", "down": down, "checks": checks})
        return JSONResponse({"status": "ready", "checks": checks})

    @app.get("/v1/products/{sku}", response_model=Product)
    async def get_product(sku: Sku, _: CatalogRead) -> Response:
        rt = started.get()
        payload, cached = await rt.cache.get(sku)
        if payload is None:
            product = await rt.db.product(sku)
            if product is None:
                raise _not_found(f"product {sku}")
            payload = product.model_dump_json().encode()
            if cached != "error":
                await rt.cache.fill(sku, payload)
        return Response(
            payload,
            media_type="application/json",
            headers={"X-Cache": "hit" if cached == "hit" else "miss"},
        )

    @app.put("/v1/products/{sku}", response_model=Product)
    async def put_product(sku: Sku, body: ProductInput, _: CatalogWrite) -> Response:
        rt = started.get()
        wrote = False

        async def write_through(stored: Product) -> None:
            nonlocal wrote
            wrote = True
            await rt.cache.store(sku, stored.model_dump_json().encode())

        try:
            product, created = await rt.db.upsert_product(sku, body, before_commit=write_through)
        except Exception:
            if wrote:  # a copy of a row that may have been rolled back: MySQL answers next
                await rt.cache.forget(sku)
            raise
        payload = product.model_dump_json().encode()
        return Response(
            payload,
            status_code=201 if created else 200,
            media_type="application/json",
        )

    @app.get("/v1/inventory/{sku}")
    async def get_inventory(sku: Sku, _: CatalogRead) -> Inventory:
        inventory = await started.get().db.inventory(sku)
        if inventory is None:
            raise _not_found(f"product {sku}")
        return inventory

    @app.post("/v1/orders", status_code=202, response_model=OrderAccepted)
    async def post_order(
        body: OrderInput,
        principal: OrdersWrite,
        key: IdempotencyKey = None,
    ) -> JSONResponse:
        assert principal is not None  # noqa: S101 - orders are never public
        idempotency_key = require_key(key)
        rt = started.get()
        prices = await rt.pricing.prices(body)
        return _answer(await rt.submissions.order(body, prices, principal.subject, idempotency_key))

    @app.post("/v1/events", status_code=202, response_model=EventsAccepted)
    async def post_events(body: EventBatchInput, _: EventsWrite) -> JSONResponse:
        return _answer(await started.get().submissions.events(body))

    @app.get("/v1/campaigns/{campaign_id}/stats")
    async def campaign_stats(campaign_id: CampaignId, _: StatsRead) -> CampaignStats:
        stats = await started.get().db.campaign_stats(campaign_id)
        if stats is None:
            raise _not_found(f"campaign {campaign_id}")
        return stats


app = create_app()
