"""Authentication and authorization (issue 19 item 1): OAuth2 bearer JWTs of the configured
issuer, one scope per kind of route; /metrics only on the internal listener.

Before the fix every route answered without credentials: the 401 tests below failed then."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from tests.services.api.conftest import Backends, Catalogue, token
from tests.services.api.support import ApiClient, running_api
from tests.services.api.test_orders import an_order, orders_of

pytestmark = [pytest.mark.services, pytest.mark.mysql, pytest.mark.redis, pytest.mark.kafka]

PRODUCT = {"name": "x", "price_cents": 1, "currency": "EUR"}
EVENTS = {"events": [{"type": "click", "campaign_id": "c-1"}]}


def _routes(catalogue: Catalogue) -> list[tuple[str, str, object, str]]:
    return [
        ("GET", f"/v1/products/{catalogue.stocked}", None, "catalog:read"),
        ("GET", f"/v1/inventory/{catalogue.stocked}", None, "catalog:read"),
        ("PUT", f"/v1/products/{catalogue.bare}", PRODUCT, "catalog:write"),
        ("POST", "/v1/orders", an_order(), "orders:write"),
        ("POST", "/v1/events", EVENTS, "events:write"),
        ("GET", "/v1/campaigns/c-1/stats", None, "stats:read"),
    ]


def test_every_route_but_the_probes_needs_a_token(api: ApiClient, catalogue: Catalogue) -> None:
    anonymous = api.anonymous()
    for method, path, body, _scope in _routes(catalogue):
        reply = anonymous.request(method, path, body, {"Idempotency-Key": "k-anon"})
        assert reply.status == 401, (method, path, reply)
        assert reply.headers["www-authenticate"].startswith('Bearer realm="hyperscale"')
    for probe in ("/healthz", "/readyz"):
        assert anonymous.get(probe).status in {200, 503}


def test_an_unauthenticated_client_learns_nothing_about_the_body(api: ApiClient) -> None:
    reply = api.anonymous().post("/v1/orders", {"nonsense": True}, {"Idempotency-Key": "k"})
    assert reply.status == 401, reply
    assert "detail" not in reply.json


def test_each_route_needs_its_own_scope(
    api: ApiClient, backends: Backends, catalogue: Catalogue
) -> None:
    for method, path, body, scope in _routes(catalogue):
        others = tuple({r[3] for r in _routes(catalogue)} - {scope})
        headers = {
            "Authorization": f"Bearer {token(backends.app, *others)}",
            "Idempotency-Key": str(uuid.uuid4()),
        }
        reply = api.request(method, path, body, headers)
        assert reply.status == 403, (method, path, reply)
        assert reply.json["scope"] == scope
        assert 'error="insufficient_scope"' in reply.headers["www-authenticate"]


def _mint_with_other_key(backends: Backends) -> str:
    from hyperscale.clients.tokens import mint_local_token
    from tests.services.api.conftest import TEST_AUDIENCE, TEST_ISSUER

    return mint_local_token(
        backends.app,
        "api-tests-forger",  # a key pair of its own, not in the API's JWKS
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
        subject="forger",
    )


def _forged_alg_none(backends: Backends) -> str:
    good = token(backends.app)
    _header, payload, _signature = good.split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none"}).encode()).rstrip(b"=")
    return f"{header.decode()}.{payload}."


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda b: token(b.app, issuer="urn:someone:else"), id="other-issuer"),
        pytest.param(lambda b: token(b.app, audience="another-api"), id="other-audience"),
        pytest.param(lambda b: token(b.app, ttl_s=-120), id="expired"),
        pytest.param(_mint_with_other_key, id="signed-by-another-key"),
        pytest.param(_forged_alg_none, id="alg-none"),
        pytest.param(lambda _b: "not.a.jwt", id="garbage"),
        pytest.param(lambda _b: "x" * 9000, id="oversized"),
    ],
)
def test_a_bad_token_is_401(api: ApiClient, backends: Backends, make: object) -> None:
    bad = make(backends)  # type: ignore[operator]
    reply = api.request(
        "POST",
        "/v1/orders",
        an_order(),
        {"Authorization": f"Bearer {bad}", "Idempotency-Key": str(uuid.uuid4())},
    )
    assert reply.status == 401, reply
    assert 'error="invalid_token"' in reply.headers["www-authenticate"]


def test_idempotency_keys_are_per_client(api: ApiClient, backends: Backends) -> None:
    order = an_order()
    key = str(uuid.uuid4())
    answers = []
    for subject in ("client-a", "client-b"):
        headers = {
            "Authorization": f"Bearer {token(backends.app, subject=subject)}",
            "Idempotency-Key": key,
        }
        answers.append(api.post("/v1/orders", order, headers))
    assert [a.status for a in answers] == [202, 202], answers
    assert answers[0].json["order_id"] != answers[1].json["order_id"]
    assert len(orders_of(backends, order["customer_id"])) == 2


def test_metrics_are_served_on_the_internal_port_only(api: ApiClient) -> None:
    assert api.get("/metrics").status == 404
    reply = api.metrics()
    assert reply.status == 200, reply
    assert "http_requests_total" in reply.text


def test_catalogue_reads_can_be_public_by_configuration(
    backends: Backends, catalogue: Catalogue, tmp_path: Path
) -> None:
    environment = backends.api_environment(AUTH_PUBLIC_READS="true")
    with running_api(environment, tmp_path / "api.log") as api:
        anonymous = api.anonymous()
        assert anonymous.get(f"/v1/products/{catalogue.stocked}").status == 200
        assert anonymous.get(f"/v1/inventory/{catalogue.stocked}").status == 200
        assert anonymous.put(f"/v1/products/{catalogue.bare}", PRODUCT).status == 401
        assert anonymous.get("/v1/campaigns/c-1/stats").status == 401
