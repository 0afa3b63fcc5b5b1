"""Shared fixtures: the guard, injected contexts, a CLI runner, and the real local services."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from hyperscale.cli import app as root_app
from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from hyperscale.local.results import ServiceState
from tests.guard import GUARD
from tests.workers import group_for_workers, isolate_worker


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C as a user presses it. A run started in the background by a non-interactive shell
    (`make test &`, nohup, some CI runners) has SIGINT ignored, as POSIX has it, and every
    process the tests start would inherit that: the tests that press Ctrl-C on a command (lag
    --watch, dlq replay, migrate) would find it deaf. The tests' processes get Python's own
    handler back, so what they start has the disposition a terminal gives."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    isolate_worker()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group_for_workers(items)


@pytest.fixture(scope="session", autouse=True)
def _isolated_from_real_accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test (or program it starts) may reach real AWS credentials or a real cluster."""
    fake = tmp_path_factory.mktemp("no-real-accounts")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBECONFIG", str(fake / "kubeconfig-absent"))
        mp.setenv("AWS_CONFIG_FILE", str(fake / "aws-config-absent"))
        mp.setenv("AWS_SHARED_CREDENTIALS_FILE", str(fake / "aws-credentials-absent"))
        mp.setenv("AWS_ACCESS_KEY_ID", "testing")
        mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        mp.setenv("AWS_EC2_METADATA_DISABLED", "true")
        mp.delenv("AWS_PROFILE", raising=False)
        mp.delenv("HYPERSCALE_ENV", raising=False)
        GUARD.active = True
        try:
            yield
        finally:
            GUARD.active = False


@pytest.fixture(scope="session")
def shared_app() -> AppContext:
    """The context `hyperscale local up` uses on this machine, so running services are reused."""
    return AppContext.from_os()


@pytest.fixture(scope="session")
def local_env(shared_app: AppContext) -> Environment:
    return load_environment(shared_app, "local")


@pytest.fixture(scope="session")
def local_services(shared_app: AppContext, local_env: Environment) -> Iterator[Environment]:
    """Every backing service, started through the same code as `hyperscale local up`.

    Services that were already running are reused and left running; the ones this session
    started are stopped at the end unless HYPERSCALE_KEEP_SERVICES is set.
    """
    result = core.up(local_env, shared_app)
    failed = [s for s in result.services if not s.state.healthy]
    if failed:
        lines = [f"{s.name}: {s.detail}" for s in failed]
        pytest.fail("local services did not start:\n" + "\n".join(lines), pytrace=False)
    started = [s.name for s in result.services if s.state is not ServiceState.REUSED]
    yield local_env
    if started and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        core.down(local_env, shared_app, started)


@pytest.fixture(scope="module")
def platform(local_services: Environment, shared_app: AppContext) -> Iterator[Environment]:
    """The platform deployed by the same code as `hyperscale deploy --env local`; stopped
    afterwards only if it was not running before."""
    from hyperscale.deploy import core as deploy_core
    from hyperscale.targets.local import LocalTarget

    was_running = LocalTarget(local_services, shared_app).supervisor.running()
    deploy_core.deploy(local_services, shared_app)
    _platform_catalogue(local_services, shared_app)
    yield local_services
    if not was_running:
        LocalTarget(local_services, shared_app).stop()


#: Products the platform tests order, at known prices (cents, EUR): prices are the catalogue's.
PLATFORM_PRICES = {"TEE-1": 1999, "OTHER-1": 1999}


def _platform_catalogue(env: Environment, app: AppContext) -> None:
    """A token for the tests' requests (tests.support.API_AUTH) and their products, put through
    the API as any client with catalog:write would."""
    from hyperscale.clients.http import send_json
    from hyperscale.clients.tokens import access_token, bearer
    from tests.support import API_AUTH

    API_AUTH.clear()
    API_AUTH.update(bearer(access_token(env, app)))
    base = str(env.services.api_url).rstrip("/")
    for sku, price in PLATFORM_PRICES.items():
        product = {"name": f"Test {sku}", "price_cents": price, "currency": "EUR"}
        status, answer = send_json("PUT", f"{base}/v1/products/{sku}", product, API_AUTH)
        assert status in {200, 201}, (sku, status, answer)


@dataclass(frozen=True)
class Sandbox:
    kubeconfig: Path
    context: str
    bin_dir: Path


@pytest.fixture(scope="session")
def sandbox(shared_app: AppContext, local_env: Environment) -> Iterator[Sandbox]:
    """The sandbox cluster, brought up by the same code as `hyperscale local cluster up`.

    A cluster that was already running is reused and left running; one this session started
    is stopped at the end unless HYPERSCALE_KEEP_SERVICES is set.
    """
    from hyperscale.local.cluster import core as cluster_core
    from hyperscale.local.cluster.kwokctl import Kwokctl

    result = cluster_core.up(local_env, shared_app)
    if not result.healthy:
        pytest.fail(f"sandbox cluster is not healthy: {result.to_data()}", pytrace=False)
    kwok = Kwokctl(shared_app, local_env.runtime.cluster)
    yield Sandbox(Path(result.kubeconfig), result.context, kwok.bin_dir)
    if result.action != "reused" and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        cluster_core.down(local_env, shared_app)


@pytest.fixture(scope="session")
def kube(sandbox: Sandbox) -> Iterator[Any]:
    """A lightkube client for the sandbox cluster."""
    from lightkube import Client, KubeConfig

    config = KubeConfig.from_file(sandbox.kubeconfig).get(context_name=sandbox.context)
    with Client(config=config, field_manager="hyperscale-tests") as client:
        yield client


@pytest.fixture
def namespace(kube: Any) -> Iterator[str]:
    """A namespace of its own for each test, labelled as test data and deleted afterwards."""
    import uuid

    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace, ServiceAccount

    name = f"t-{uuid.uuid4().hex[:10]}"
    kube.create(Namespace(metadata=ObjectMeta(name=name, labels={"hyperscale.dev/test": "true"})))
    deadline = time.monotonic() + 30  # pods need the default service account the controller makes
    while time.monotonic() < deadline:
        if any(True for _ in kube.list(ServiceAccount, namespace=name)):
            break
        time.sleep(0.2)
    yield name
    kube.delete(Namespace, name)


@pytest.fixture
def isolated_app(tmp_path: Path) -> AppContext:
    """A context with its own state directory and a copy of the environments to edit."""
    environments = tmp_path / "environments"
    active = AppContext.from_os()  # HYPERSCALE_ENVIRONMENTS_DIR when set, so ports match
    shutil.copytree(active.environments_dir, environments)
    return AppContext(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        state_dir=tmp_path / "state",
        cache_dir=active.cache_dir,
        environments_dir=environments,
        environ={},
    )


def moto_client(env: Environment, service: str) -> Any:
    """A boto3 client for the local moto endpoint, with its throwaway credentials."""
    import boto3

    from hyperscale.local.services.moto import LOCAL_AWS_CREDENTIALS

    return boto3.client(
        service,
        region_name=env.aws.region,
        endpoint_url=str(env.aws.endpoint_url),
        aws_access_key_id=LOCAL_AWS_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_AWS_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def replica_admin(env: Environment, app: AppContext) -> Any:
    """An administrator's PyMySQL connection to the local read replica (its unix socket), to
    stop its SQL thread or lock its tables; autocommit."""
    import getpass

    import pymysql

    from hyperscale.local.services.mariadb_replica import MariaDBReplicaService

    socket_path = MariaDBReplicaService(env, app).socket_path
    return pymysql.connect(unix_socket=socket_path, user=getpass.getuser(), autocommit=True)


@pytest.fixture
def stopped_sql_thread(local_services: Environment, shared_app: AppContext) -> Iterator[None]:
    """The replica's SQL thread stopped for the test (it falls behind the writer); started
    again whatever happens."""
    with replica_admin(local_services, shared_app) as conn:
        conn.cursor().execute("STOP SLAVE SQL_THREAD")
    try:
        yield
    finally:
        with replica_admin(local_services, shared_app) as conn:
            conn.cursor().execute("START SLAVE SQL_THREAD")


@dataclass
class CliOutcome:
    exit_code: int
    stdout: str
    stderr: str


def invoke(app_ctx: AppContext, *args: str, typed: str | None = None) -> CliOutcome:
    """Run the real root command with an injected context and capture its streams; ``typed``
    is what a person types at the terminal (stdin)."""
    app_ctx.stdout = io.StringIO()
    app_ctx.stderr = io.StringIO()
    result = CliRunner().invoke(
        root_app, list(args), obj=app_ctx, catch_exceptions=False, input=typed
    )
    assert isinstance(app_ctx.stdout, io.StringIO)
    assert isinstance(app_ctx.stderr, io.StringIO)
    return CliOutcome(
        result.exit_code,
        app_ctx.stdout.getvalue() + result.stdout,
        app_ctx.stderr.getvalue(),
    )


@pytest.fixture(scope="session")
def registry(shared_app: AppContext, local_env: Environment) -> Iterator[str]:
    """The local registry, started by the same code as `hyperscale local up registry`; its URL."""
    result = core.up(local_env, shared_app, ["registry"])
    outcome = result.services[0]
    if not outcome.state.healthy:
        pytest.fail(f"registry did not start: {outcome.detail}", pytrace=False)
    yield f"http://{outcome.address}"
    if outcome.state is not ServiceState.REUSED and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        core.down(local_env, shared_app, ["registry"])


@pytest.fixture(scope="session")
def built(registry: str) -> dict[str, Any]:
    """`images build --push` of the API and the consumer, once per session (the base image is
    built on first use and cached); the JSON envelope's data."""
    outcome = invoke(
        AppContext.from_os(),
        "images",
        "build",
        "-s",
        "api",
        "-s",
        "consumer",
        "--push",
        "-o",
        "json",
    )
    assert outcome.exit_code == 0, outcome.stderr
    data: dict[str, Any] = json.loads(outcome.stdout)["data"]
    return data


#: A pod spec's placement on the real node (its label, and a toleration of its taint).
REAL_NODE_PLACEMENT = {
    "nodeSelector": {"hyperscale.dev/node": "real"},
    "tolerations": [
        {"key": "hyperscale.dev/real-node", "operator": "Exists", "effect": "NoSchedule"}
    ],
}


@pytest.fixture(scope="module")
def real_node(sandbox: Sandbox, shared_app: AppContext, local_env: Environment) -> Iterator[str]:
    """The real node, started by the same code as `cluster up --real-node`; its name. It is
    taken down at the end of the module: the other tests count kwok's nodes."""
    from hyperscale.local.cluster import core as cluster_core

    result = cluster_core.up(local_env, shared_app, real_node=True)
    assert result.real_node is not None
    if not result.healthy:
        pytest.fail(f"the real node is not Ready: {result.to_data()}", pytrace=False)
    yield result.real_node.name
    cluster_core.real_node_down(local_env, shared_app)


def api_image(built: dict[str, Any]) -> str:
    """The API image the session built, by the digest the local registry holds."""
    api = next(image for image in built["images"] if image["name"] == "api")
    ref, digest = next(iter(api["pushed"].items()))
    return f"{ref}@{digest}"
