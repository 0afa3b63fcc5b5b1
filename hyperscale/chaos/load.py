"""A steady order stream through the platform's API for chaos drills: one order at a time at a
bounded rate on a thread, each request's answer and how long it took kept; an order the API
refused is sent again with the same idempotency key (the same order) until it is accepted, so
"every accepted order landed" is the drill's question, and nothing is counted twice."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from hyperscale.clients.http import post_json, send_json
from hyperscale.clients.tokens import access_token, bearer
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError

HTTP_ACCEPTED = 202
HTTP_UNAVAILABLE = 503
#: "Retry later" for an order whose key is busy. The API no longer answers it for orders (a key
#: stands for one stored event, published again on a retry), but a drill against an older API
#: may still see it.
HTTP_IN_PROGRESS = 409
#: The API's "not now, retry": what it may answer while a backing service is away.
RETRY_LATER = (HTTP_UNAVAILABLE, HTTP_IN_PROGRESS)
#: The product the drills order, put into the catalogue first: prices are the catalogue's.
CHAOS_SKU = "CHAOS-1"
CHAOS_PRODUCT = {"name": "Chaos drill item", "price_cents": 100, "currency": "EUR"}


@dataclass(frozen=True)
class Answer:
    #: time.monotonic() when the request was sent.
    at: float
    #: The HTTP status; 0 when no answer came within the request's timeout.
    status: int
    seconds: float


def order_load(env: Environment, app: AppContext, url: str, rate: float) -> OrderLoad:
    """An order stream for ``env``'s API at ``url``: a token for it, and the drill's product in
    the catalogue (an order names SKUs; the API prices them)."""
    auth = bearer(access_token(env, app))
    status, answer = send_json("PUT", f"{url}/v1/products/{CHAOS_SKU}", CHAOS_PRODUCT, auth)
    if status not in {200, 201}:
        raise ExternalSystemError(
            f"the API at {url} refused the drill's product {CHAOS_SKU}: HTTP {status}"
            f" {answer.get('error', '')}".rstrip()
        )
    return OrderLoad(url, rate, headers=auth)


@dataclass
class OrderLoad:
    url: str
    rate: float
    customer: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:10]}")
    #: Order ids the API accepted (202), in order.
    accepted: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    timeout_s: float = 5.0
    #: ``Authorization`` for the API (a bearer token; never logged).
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def refused(self) -> int:
        return sum(1 for a in list(self.answers) if a.status != HTTP_ACCEPTED)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="chaos-orders", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)

    def since(self, started: float) -> list[Answer]:
        return [a for a in list(self.answers) if a.at >= started]

    def _run(self) -> None:
        index, interval = 0, 1.0 / self.rate
        body = {
            "customer_id": self.customer,
            "currency": "EUR",
            "lines": [{"sku": CHAOS_SKU, "quantity": 1}],
        }
        while not self._stop.wait(interval):
            key = {"Idempotency-Key": f"{self.customer}-{index}", **self.headers}
            sent = time.monotonic()
            try:
                status, answer = post_json(
                    f"{self.url}/v1/orders", body, key, timeout=self.timeout_s
                )
            except (OSError, ValueError):
                status, answer = 0, {}
            self.answers.append(Answer(sent, status, round(time.monotonic() - sent, 3)))
            if status == HTTP_ACCEPTED:
                self.accepted.append(str(answer.get("order_id")))
                index += 1
