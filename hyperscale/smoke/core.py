"""Send a burst of orders and marketing events through the API; wait for them in MySQL."""

from __future__ import annotations

import statistics
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from hyperscale.clients.http import http_status, post_json, send_json
from hyperscale.clients.mysql import platform_database
from hyperscale.clients.tokens import access_token, bearer
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.safety import confirm_protected

#: The smoke test's own products and prices (cents, EUR), put into the catalogue by each run:
#: an order's prices are the catalogue's.
PRICES = {"SMOKE-TEE": 1500, "SMOKE-MUG": 1600, "SMOKE-CAP": 1700}
SKUS = tuple(PRICES)
TABLES = ("orders", "order_lines", "campaign_stats", "processed_events")
HTTP_OK = 200
HTTP_CREATED = 201
HTTP_ACCEPTED = 202


@dataclass
class SmokeResult:
    environment: str
    run_id: str
    orders_sent: int
    orders_accepted: int
    orders_in_mysql: int
    idempotent_replay_ok: bool
    events_sent: int
    events_accepted: int
    campaign: str
    campaign_counters: dict[str, int]
    expected_counters: dict[str, int]
    post_latency_ms: dict[str, float]
    seconds_to_mysql: float | None
    #: Row counts of the platform's tables after the run: what has reached MySQL in all.
    mysql_totals: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (
            self.orders_accepted == self.orders_sent
            and self.orders_in_mysql == self.orders_accepted
            and self.idempotent_replay_ok
            and self.events_accepted == self.events_sent
            and self.campaign_counters == self.expected_counters
        )

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.passed else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {**asdict(self), "passed": self.passed}

    def render(self, console: Any) -> None:
        mark = "[green]passed[/]" if self.passed else "[red]FAILED[/]"
        console.print(f"smoke test {self.run_id} on {self.environment}: {mark}")
        console.print(
            f"  orders: {self.orders_sent} sent, {self.orders_accepted} accepted (202),"
            f" {self.orders_in_mysql} in MySQL"
            + (f" after {self.seconds_to_mysql:.2f}s" if self.seconds_to_mysql is not None else "")
        )
        console.print(
            f"  idempotency: repeated key returned the first order: {self.idempotent_replay_ok}"
        )
        console.print(
            f"  events: {self.events_sent} sent, {self.events_accepted} accepted;"
            f" campaign {self.campaign} in MySQL: {self.campaign_counters}"
        )
        lat = self.post_latency_ms
        console.print(
            f"  POST latency: p50 {lat.get('p50', 0):.1f} ms, p95 {lat.get('p95', 0):.1f} ms"
        )
        totals = ", ".join(f"{n} {t}" for t, n in self.mysql_totals.items())
        console.print(f"  MySQL now holds: {totals}")
        for error in self.errors[:5]:
            console.print(f"  [red]{error}[/]")


def smoke(
    env: Environment,
    app: AppContext,
    *,
    orders: int = 20,
    events: int = 60,
    timeout: float = 30.0,
    yes: bool = False,
) -> SmokeResult:
    if orders < 1 or events < 3:  # noqa: PLR2004 - one of each event type
        raise UsageError("send at least 1 order and 3 events")
    confirm_protected(app, env, "write test orders and events through its API", yes=yes)
    base = str(env.services.api_url).rstrip("/")
    ready = http_status(f"{base}/readyz", timeout=3)
    if ready != HTTP_OK:
        raise ExternalSystemError(
            f"the API at {base} is not ready ({ready or 'no answer'})",
            hint=f"see `hyperscale status --env {env.name}`; deploy with `hyperscale deploy`",
        )
    auth = bearer(access_token(env, app))
    for sku, price in PRICES.items():
        status, answer = send_json(
            "PUT",
            f"{base}/v1/products/{sku}",
            {"name": f"Smoke test {sku.lower()}", "price_cents": price, "currency": "EUR"},
            auth,
        )
        if status not in {HTTP_OK, HTTP_CREATED}:
            raise ExternalSystemError(
                f"the API refused the smoke test's product {sku}: HTTP {status}"
                f" {answer.get('error', '')}".rstrip()
            )
    run_id = uuid.uuid4().hex[:8]
    campaign = f"smoke-{run_id}"
    result = SmokeResult(
        env.name, run_id, orders, 0, 0, False, events, 0, campaign, {}, {}, {}, None
    )

    order_ids: list[str] = []
    latencies: list[float] = []
    first_key, first_id = f"smoke-{run_id}-0", None
    for i in range(orders):
        body = {
            "customer_id": f"smoke-{run_id}",
            "currency": "EUR",
            "lines": [
                {"sku": SKUS[j % len(SKUS)], "quantity": 1 + (i + j) % 3}
                for j in range(1 + i % len(SKUS))
            ],
        }
        begun = time.perf_counter()
        status, answer = post_json(
            f"{base}/v1/orders", body, {"Idempotency-Key": f"smoke-{run_id}-{i}", **auth}
        )
        latencies.append((time.perf_counter() - begun) * 1000)
        if status == HTTP_ACCEPTED:
            order_ids.append(answer["order_id"])
            first_id = first_id or answer["order_id"]
        else:
            result.errors.append(f"order {i}: HTTP {status} {answer}")
    result.orders_accepted = len(order_ids)

    replay_status, replay = post_json(
        f"{base}/v1/orders",
        {
            "customer_id": f"smoke-{run_id}",
            "currency": "EUR",
            "lines": [{"sku": SKUS[0], "quantity": 1}],
        },
        {"Idempotency-Key": first_key, **auth},
    )
    result.idempotent_replay_ok = (
        replay_status == HTTP_ACCEPTED and replay.get("order_id") == first_id
    )

    kinds = ["impression"] * (events - events // 3) + ["click"] * (events // 3 - 1) + ["conversion"]
    batch = [
        {"type": kind, "campaign_id": campaign, "value_cents": 4200 if kind == "conversion" else 0}
        for kind in kinds
    ]
    status, answer = post_json(f"{base}/v1/events", {"events": batch}, auth)
    result.events_accepted = int(answer.get("accepted", 0)) if status == HTTP_ACCEPTED else 0
    if status != HTTP_ACCEPTED:
        result.errors.append(f"events: HTTP {status} {answer}")
    result.expected_counters = {
        "impressions": kinds.count("impression"),
        "clicks": kinds.count("click"),
        "conversions": 1,
        "conversion_value_cents": 4200,
    }
    result.post_latency_ms = {
        "p50": round(statistics.median(latencies), 2),
        "p95": round(statistics.quantiles(latencies, n=20)[-1], 2)
        if len(latencies) > 1
        else latencies[0],
    }
    _wait_for_mysql(env, app, result, order_ids, timeout)
    return result


def _wait_for_mysql(
    env: Environment, app: AppContext, result: SmokeResult, order_ids: list[str], timeout: float
) -> None:
    begun = time.monotonic()
    with platform_database(env, app) as database:
        while True:
            found = database.orders_found(order_ids)
            counters = database.campaign_counters(result.campaign)
            result.orders_in_mysql = found
            result.campaign_counters = (
                dict(zip(result.expected_counters, counters, strict=True)) if counters else {}
            )
            done = found == len(order_ids) and result.campaign_counters == result.expected_counters
            if done:
                result.seconds_to_mysql = round(time.monotonic() - begun, 2)
                break
            if time.monotonic() - begun > timeout:
                result.errors.append(f"not everything reached MySQL within {timeout:g}s")
                break
            time.sleep(0.2)
        result.mysql_totals = database.row_counts(TABLES)
