"""Fixtures for the API tests: the real backing services (through `hyperscale local up`'s own
code), the schema, topics of this module's own, a small seeded catalogue, and the API running as
a server process against all of it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hyperscale.clients.mysql import apply_migrations
from hyperscale.clients.secrets import resolve_secret
from hyperscale.clients.tokens import ALL_SCOPES, jwks_path, mint_local_token
from hyperscale.config.models import Environment
from hyperscale.config.secrets import generated_secret_path
from hyperscale.context import AppContext
from tests.services.api.support import TOKENS, ApiClient, ApiServer, unique_id, unique_sku
from tests.support import free_port


@dataclass(frozen=True)
class Backends:
    """Where the real services are, and the settings an API process needs to use them."""

    env: Environment
    app: AppContext
    orders_topic: str
    events_topic: str

    @property
    def bootstrap(self) -> str:
        return self.env.kafka.bootstrap

    @property
    def redis_url(self) -> str:
        return f"redis://{self.env.redis.endpoint}/{self.env.redis.db}"

    def password_file(self) -> Path:
        ref = self.env.mysql.password
        assert ref.generated, "the local environment uses a generated MySQL password"
        return generated_secret_path(self.app, ref.generated)

    def api_environment(self, **overrides: str) -> dict[str, str]:
        mysql = self.env.mysql
        settings = {
            "AUTH_ISSUER": TEST_ISSUER,
            "AUTH_AUDIENCE": TEST_AUDIENCE,
            "AUTH_JWKS_FILE": str(jwks_path(self.app, TEST_ISSUER_DIR)),
            "METRICS_PORT": str(free_port()),
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "ORDERS_TOPIC": self.orders_topic,
            "EVENTS_TOPIC": self.events_topic,
            "MYSQL_WRITER": str(mysql.writer),
            "MYSQL_READER": str(mysql.reader),
            "MYSQL_DATABASE": mysql.database,
            "MYSQL_USER": mysql.user,
            "MYSQL_PASSWORD_FILE": str(self.password_file()),
            "MYSQL_TLS": "false",
            "REDIS_URL": self.redis_url,
        }
        settings.update(overrides)
        return settings

    def mysql(self) -> Any:
        """A PyMySQL connection on the writer, autocommit, as the platform user."""
        import pymysql

        cfg = self.env.mysql
        return pymysql.connect(
            host=cfg.writer.host,
            port=cfg.writer.port,
            user=cfg.user,
            password=resolve_secret(self.app, cfg.password),
            database=cfg.database,
            autocommit=True,
            connect_timeout=5,
        )

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, socket_timeout=5)


TEST_ISSUER = "urn:hyperscale:test:api"
TEST_AUDIENCE = "hyperscale-api"
#: The tests' issuer keeps its keys under <state>/secrets/auth/<this>.
TEST_ISSUER_DIR = "api-tests"


def token(app: AppContext, *scopes: str, subject: str = "api-tests", **claims: Any) -> str:
    """A token of the tests' issuer (the local issuer's code, its own keys)."""
    return mint_local_token(
        app,
        TEST_ISSUER_DIR,
        issuer=claims.pop("issuer", TEST_ISSUER),
        audience=claims.pop("audience", TEST_AUDIENCE),
        subject=subject,
        scopes=scopes or ALL_SCOPES,
        **claims,
    )


@pytest.fixture(scope="module")
def backends(local_services: Environment, shared_app: AppContext) -> Iterator[Backends]:
    """The schema applied and two topics of this module's own (the broker creates none)."""
    from confluent_kafka.admin import AdminClient, NewTopic

    apply_migrations(local_services, shared_app, shared_app.services_dir / "schema" / "migrations")
    _price_list(local_services, shared_app)
    orders, events = unique_id("api-test-orders"), unique_id("api-test-events")
    admin = AdminClient({"bootstrap.servers": local_services.kafka.bootstrap})
    created = admin.create_topics([NewTopic(orders, 3, 1), NewTopic(events, 3, 1)])
    for future in created.values():
        future.result(30)
    TOKENS[TEST_ISSUER] = token(shared_app)
    yield Backends(local_services, shared_app, orders, events)
    for future in admin.delete_topics([orders, events]).values():
        future.result(30)


#: The products ``an_order`` orders, at these prices (cents, EUR).
PRICE_LIST = {"SKU-A": 1250, "SKU-B": 999}


def _price_list(env: Environment, app: AppContext) -> None:
    """The products orders name, at known prices: prices are the catalogue's, never the client's."""
    import pymysql
    import redis

    cfg = env.mysql
    conn = pymysql.connect(
        host=cfg.writer.host,
        port=cfg.writer.port,
        user=cfg.user,
        password=resolve_secret(app, cfg.password),
        database=cfg.database,
        autocommit=True,
    )
    try:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO products (sku, name, price_cents, currency) VALUES (%s, %s, %s, 'EUR')"
                " ON DUPLICATE KEY UPDATE price_cents = VALUES(price_cents), currency = 'EUR'",
                [(sku, f"Test {sku}", price) for sku, price in PRICE_LIST.items()],
            )
    finally:
        conn.close()
    client = redis.Redis.from_url(f"redis://{env.redis.endpoint}/{env.redis.db}")
    client.delete(*(f"product:{sku}" for sku in PRICE_LIST))
    client.close()


@dataclass(frozen=True)
class Catalogue:
    """Products this module seeded: ``stocked`` has stock in two warehouses, ``bare`` none."""

    stocked: str
    bare: str
    stock: dict[str, int]


@pytest.fixture(scope="module")
def catalogue(backends: Backends) -> Iterator[Catalogue]:
    stocked, bare = unique_sku(), unique_sku()
    stock = {"eu-west": 7, "us-east": 5}
    conn = backends.mysql()
    try:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO products (sku, name, description, price_cents, currency)"
                " VALUES (%s, %s, %s, %s, %s)",
                [
                    (stocked, "Stocked widget", "in two warehouses", 1250, "EUR"),
                    (bare, "Bare widget", "", 999, "USD"),
                ],
            )
            cur.executemany(
                "INSERT INTO inventory (sku, warehouse, quantity) VALUES (%s, %s, %s)",
                [(stocked, warehouse, qty) for warehouse, qty in stock.items()],
            )
        yield Catalogue(stocked, bare, stock)
        with conn.cursor() as cur:
            cur.execute("DELETE FROM inventory WHERE sku IN (%s, %s)", (stocked, bare))
            cur.execute("DELETE FROM products WHERE sku IN (%s, %s)", (stocked, bare))
    finally:
        conn.close()
    client = backends.redis()
    client.delete(f"product:{stocked}", f"product:{bare}")
    client.close()


@pytest.fixture(scope="module")
def api(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiClient]:
    """The API process against the real services, shared by the tests of a module."""
    server = ApiServer(backends.api_environment(), tmp_path_factory.mktemp("api") / "api.log")
    client = server.start()
    yield client
    server.stop()
