"""The built images run here under podman (runc, cgroupfs, lowered rlimits: the adapter's
containers.conf) as their non-root user, against the local backing services."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hyperscale.clients.containers import Containers
from hyperscale.clients.http import http_status
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.targets.local import LocalTarget, Program
from tests.support import free_port, wait_for

pytestmark = [pytest.mark.containers, pytest.mark.services]

#: Where a container finds each secret file its program reads (*_PASSWORD_FILE).
SECRETS_IN_CONTAINER = "/run/secrets/hyperscale"
JWKS_IN_CONTAINER = "/run/hyperscale/jwks.json"


def _body(url: str) -> str:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode())


def _ref(built: dict[str, Any], name: str) -> str:
    return str(next(i["ref"] for i in built["images"] if i["name"] == name))


def _program(env: Environment, app: AppContext, kind: str) -> Program:
    return next(p for p in LocalTarget(env, app).programs() if p.name.startswith(kind))


def _container_setup(
    program: Program, tmp_path: Path, **extra: str
) -> tuple[dict[str, str], dict[Path, str]]:
    """The program's environment for a container, and its volumes: each secret file it reads
    (the MySQL password, the service's Kafka password) copied, owned by the image's user
    (10001), readable by it alone, and mounted where the environment says."""
    import os

    env = {k: v for k, v in program.environment.items() if k not in {"PATH", "LANG"}}
    volumes: dict[Path, str] = {}
    for variable, path in list(env.items()):
        if not variable.endswith("_PASSWORD_FILE"):
            continue
        copy = tmp_path / variable.lower()
        shutil.copyfile(path, copy)
        copy.chmod(0o400)
        os.chown(copy, 10001, 10001)
        env[variable] = f"{SECRETS_IN_CONTAINER}/{copy.name}"
        volumes[copy] = env[variable]
    return {**env, **extra}, volumes


@pytest.fixture(scope="module")
def platform_data(local_services: Environment) -> Environment:
    """The schema, the topics and the services' ACLs, as `hyperscale deploy` applies them
    (the containers are the workloads here, so the deploy's own processes are not started)."""
    from hyperscale.clients.mysql import apply_migrations
    from hyperscale.kafka.acls.core import reconcile_acls
    from hyperscale.kafka.reconcile import ReconcileRequest
    from hyperscale.kafka.topics.core import reconcile_topics

    app = AppContext.from_os()
    apply_migrations(local_services, app, app.services_dir / "schema" / "migrations")
    assert not reconcile_topics(local_services, app, ReconcileRequest(yes=True)).refused
    reconcile_acls(local_services, app, ReconcileRequest(yes=True))
    return local_services


@pytest.fixture
def running() -> Iterator[list[str]]:
    """Names of the containers a test starts; removed afterwards, logs shown on failure."""
    names: list[str] = []
    yield names
    adapter = Containers(AppContext.from_os())
    for name in names:
        adapter.remove_container(name)


def test_the_api_image_answers_healthz_and_readyz_as_non_root(
    built: dict[str, Any], platform_data: Environment, tmp_path: Path, running: list[str]
) -> None:
    app = AppContext.from_os()
    adapter = Containers(app)
    api = _program(platform_data, app, "api")
    # The API logs in to Kafka as itself (its SCRAM user, the ACLs the deploy grants).
    env, secrets = _container_setup(api, tmp_path, AUTH_JWKS_FILE=JWKS_IN_CONTAINER)
    port = free_port()
    name = f"hyperscale-test-api-{uuid.uuid4().hex[:8]}"
    running.append(name)
    adapter.run_detached(
        _ref(built, "api"),
        name,
        # Loopback only: the container shares the host's network namespace.
        command=["python", "-m", "platform_api", "--host", "127.0.0.1", "--port", str(port)],
        # The local token issuer's public keys, at a path the image's user can reach (the
        # state directory can be under /root, which it cannot traverse).
        env=env,
        volumes={**secrets, Path(api.environment["AUTH_JWKS_FILE"]): JWKS_IN_CONTAINER},
    )
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return http_status(f"{base}/readyz") == 200

    try:
        wait_for(ready, 60, "the API container's /readyz")
    except AssertionError:
        pytest.fail(f"{_body(base + '/readyz')}\n{adapter.logs(name)[-3000:]}", pytrace=False)
    assert http_status(f"{base}/healthz") == 200
    assert adapter.exec(name, ["id", "-u"]).strip() == "10001"


def test_the_consumer_image_starts_and_joins_its_group(
    built: dict[str, Any], platform_data: Environment, tmp_path: Path, running: list[str]
) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    app = AppContext.from_os()
    adapter = Containers(app)
    consumer = _program(platform_data, app, "consumer")
    group = f"test-image-consumer-{uuid.uuid4().hex[:8]}"
    port = free_port()
    # A group of its own, beside the deployed consumers': outside the consumer identity's
    # grants, so this container reads on the operators' listener.
    env, secrets = _container_setup(
        consumer,
        tmp_path,
        CONSUMER_GROUP=group,
        CONSUMER_METRICS_HOST="127.0.0.1",
        CONSUMER_METRICS_PORT=str(port),
        KAFKA_BOOTSTRAP_SERVERS=platform_data.kafka.bootstrap,
        KAFKA_SECURITY_PROTOCOL=platform_data.kafka.security.protocol,
    )
    for variable in ("KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD_FILE"):
        env.pop(variable, None)
    name = f"hyperscale-test-consumer-{uuid.uuid4().hex[:8]}"
    running.append(name)
    adapter.run_detached(
        _ref(built, "consumer"),
        name,
        command=["python", "-m", "platform_consumer"],
        env=env,
        volumes=secrets,
    )
    admin = AdminClient({"bootstrap.servers": platform_data.kafka.bootstrap})

    def members() -> int:
        try:
            described = admin.describe_consumer_groups([group])[group].result(10)
        except KafkaException:  # NOT_COORDINATOR while the group's coordinator loads
            return 0
        return len(described.members)

    try:
        wait_for(lambda: members() >= 1, 60, f"a member in consumer group {group}")
    except AssertionError:
        pytest.fail(adapter.logs(name)[-3000:], pytrace=False)
    status = http_status(f"http://127.0.0.1:{port}/healthz")
    assert status == 200, json.dumps({"status": status})
