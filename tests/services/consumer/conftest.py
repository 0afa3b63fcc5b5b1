"""The consumer's tests run it as a real process against the local Kafka broker and MariaDB."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hyperscale.clients.mysql import apply_migrations
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.config.secrets import generated_secret_path
from hyperscale.context import AppContext
from hyperscale.local import core
from hyperscale.local.results import ServiceState
from tests.services.consumer.support import (
    ConsumerProcess,
    EventProducer,
    MySQL,
    Topics,
    consumer_environ,
    create_topics,
)
from tests.support import free_port

BACKENDS = ("kafka", "mysql")


@pytest.fixture(scope="session")
def backends(shared_app: AppContext, local_env: Environment) -> Iterator[Environment]:
    """Kafka and MariaDB, started like `hyperscale local up kafka mysql`, with the schema."""
    result = core.up(local_env, shared_app, BACKENDS)
    failed = [s for s in result.services if not s.state.healthy]
    if failed:
        lines = [f"{s.name}: {s.detail}" for s in failed]
        pytest.fail("backing services did not start:\n" + "\n".join(lines), pytrace=False)
    apply_migrations(local_env, shared_app, shared_app.services_dir / "schema" / "migrations")
    started = [s.name for s in result.services if s.state is not ServiceState.REUSED]
    yield local_env
    if started and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        core.down(local_env, shared_app, started)


@pytest.fixture(scope="session")
def bootstrap(backends: Environment) -> str:
    return backends.kafka.bootstrap


@pytest.fixture(scope="session")
def mysql(backends: Environment, shared_app: AppContext) -> MySQL:
    cfg = backends.mysql
    return MySQL(
        host=cfg.writer.host,
        port=cfg.writer.port,
        user=cfg.user,
        password=resolve_secret(shared_app, cfg.password),
        database=cfg.database,
    )


@pytest.fixture(scope="session")
def password_file(
    backends: Environment, shared_app: AppContext, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The file the consumer reads its MySQL password from (never an env value)."""
    ref = backends.mysql.password
    if ref.generated:
        return generated_secret_path(shared_app, ref.generated)
    path = tmp_path_factory.mktemp("secrets") / "mysql-password"
    path.write_text(resolve_secret(shared_app, ref))
    path.chmod(0o600)
    return path


@pytest.fixture
def topics(bootstrap: str) -> Iterator[Topics]:
    """Fresh orders/events topics (3 partitions) and their dead-letter topics, for one test."""
    from confluent_kafka.admin import AdminClient

    names = create_topics(bootstrap)
    admin = AdminClient({"bootstrap.servers": bootstrap})
    yield names
    everything = names.all + [names.dlq(t) for t in names.all]
    for future in admin.delete_topics(everything, operation_timeout=10).values():
        with contextlib.suppress(Exception):  # best effort: a failed cleanup fails no test
            future.result(20)


@pytest.fixture
def producer(bootstrap: str) -> EventProducer:
    return EventProducer(bootstrap)


@pytest.fixture
def group() -> str:
    return f"t-consumer-{uuid.uuid4().hex[:10]}"


StartConsumer = Callable[..., ConsumerProcess]


@pytest.fixture
def start_consumer(
    bootstrap: str, topics: Topics, group: str, mysql: MySQL, password_file: Path, tmp_path: Path
) -> Iterator[StartConsumer]:
    """Start ``python -m platform_consumer`` (env overrides as keyword arguments; ``module``
    names a stand-in, such as a fake); all are stopped at the end of the test."""
    started: list[ConsumerProcess] = []

    def start(module: str = "platform_consumer", **overrides: str) -> ConsumerProcess:
        port = free_port()
        environ = consumer_environ(
            bootstrap=bootstrap,
            topics=topics,
            group=group,
            mysql=mysql,
            password_file=password_file,
            metrics_port=port,
            **overrides,
        )
        process = ConsumerProcess(environ, tmp_path / f"consumer-{len(started)}.log", port, module)
        started.append(process.start())
        return process

    yield start
    for process in started:
        process.stop()
