"""The MySQL, Redis and AWS adapters against the real local services (MariaDB, Redis, moto)."""

from __future__ import annotations

import getpass
import uuid

import pytest

from hyperscale.clients import aws, mysql
from hyperscale.clients import redis as redis_client
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment, SecretRef
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.local.services.moto import LOCAL_AWS_CREDENTIALS
from tests.conftest import moto_client
from tests.support import free_port

pytestmark = [pytest.mark.services]


@pytest.mark.mysql
def test_mysql_versions_over_tcp_and_the_admin_socket(
    local_services: Environment, shared_app: AppContext
) -> None:
    cfg = local_services.mysql
    password = resolve_secret(shared_app, cfg.password)
    over_tcp = mysql.server_version(cfg.writer, cfg.user, password, cfg.database)
    socket_path = str(shared_app.state_dir / "services" / "mysql" / "mysqld.sock")
    over_socket = mysql.socket_server_version(socket_path, getpass.getuser())
    assert "MariaDB" in over_tcp
    assert over_tcp == over_socket


@pytest.mark.mysql
def test_mysql_refuses_a_wrong_password_with_the_server_s_words(
    local_services: Environment,
) -> None:
    cfg = local_services.mysql
    with pytest.raises(ExternalSystemError, match="Access denied"):
        mysql.server_version(cfg.writer, cfg.user, "not-the-password", cfg.database)


@pytest.mark.mysql
def test_the_schema_applies_once_and_the_tables_answer(
    local_services: Environment, shared_app: AppContext
) -> None:
    migrations = shared_app.services_dir / "schema" / "migrations"
    head = mysql.apply_migrations(local_services, shared_app, migrations).after
    again = mysql.apply_migrations(local_services, shared_app, migrations)
    assert (again.before, again.after, again.applied) == (head, head, [])
    with mysql.platform_database(local_services, shared_app) as database:
        assert database.orders_found([f"absent-{uuid.uuid4().hex}"]) == 0
        assert database.campaign_counters(f"absent-{uuid.uuid4().hex}") is None
        counts = database.row_counts(["orders", "processed_events"])
    assert set(counts) == {"orders", "processed_events"}
    assert all(n >= 0 for n in counts.values())


@pytest.mark.redis
def test_redis_version_and_a_server_that_is_not_there(
    local_services: Environment, shared_app: AppContext
) -> None:
    token = local_services.redis.auth_token
    password = resolve_secret(shared_app, token) if token else None
    assert redis_client.server_version(local_services.redis.endpoint, password)[0].isdigit()
    nowhere = Endpoint(host="127.0.0.1", port=free_port())
    with pytest.raises(ExternalSystemError, match="refused"):
        redis_client.server_version(nowhere, None, timeout=0.5)


@pytest.mark.aws
def test_aws_clients_reach_the_environment_s_endpoint(local_services: Environment) -> None:
    account = aws.caller_account(local_services.aws, LOCAL_AWS_CREDENTIALS)
    assert account == local_services.aws.account_id


@pytest.mark.aws
def test_aws_secret_resolution_through_the_one_factory(
    local_services: Environment, shared_app: AppContext
) -> None:
    name = f"hyperscale/test/{uuid.uuid4().hex[:8]}"
    moto_client(local_services, "secretsmanager").create_secret(
        Name=name, SecretString='{"password": "from-aws"}'
    )
    ref = SecretRef(aws_secret=name, json_key="password")
    assert resolve_secret(shared_app, ref, local_services.aws) == "from-aws"
    with pytest.raises(ExternalSystemError, match=f"cannot read AWS secret {name}-absent"):
        aws.secret_string(local_services.aws, f"{name}-absent")
