"""Secret references resolve at use time from each source; values never sit in environment files."""

from __future__ import annotations

import json
import stat
import uuid
from pathlib import Path

import pytest

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Aws, Environment, SecretRef
from hyperscale.config.secrets import ensure_generated_secret
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from tests.conftest import moto_client


def test_env_secret(isolated_app: AppContext) -> None:
    isolated_app.environ["DB_PASSWORD"] = "s3cret"
    assert resolve_secret(isolated_app, SecretRef(env="DB_PASSWORD")) == "s3cret"


def test_missing_env_secret_says_what_to_export(isolated_app: AppContext) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_secret(isolated_app, SecretRef(env="DB_PASSWORD"))
    assert caught.value.message == "secret DB_PASSWORD is not set"
    assert caught.value.hint == "export DB_PASSWORD before running"


def test_file_secret(isolated_app: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text("from-file\n")
    assert resolve_secret(isolated_app, SecretRef(file=str(path))) == "from-file"


def test_generated_secret_is_private_and_stable(isolated_app: AppContext) -> None:
    first = ensure_generated_secret(isolated_app, "mysql-password")
    again = ensure_generated_secret(isolated_app, "mysql-password")
    path = isolated_app.state_dir / "secrets" / "mysql-password"
    assert first == again
    assert len(first) >= 24
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_secret(isolated_app, SecretRef(generated="mysql-password")) == first


def test_generated_secret_before_local_up_is_a_clear_error(isolated_app: AppContext) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_secret(isolated_app, SecretRef(generated="redis-token"))
    assert caught.value.hint == "run `hyperscale local up` first"


def test_secret_ref_needs_exactly_one_source() -> None:
    with pytest.raises(ValueError, match="exactly one of"):
        SecretRef(env="A", file="/b")
    with pytest.raises(ValueError, match="exactly one of"):
        SecretRef()


@pytest.mark.aws
@pytest.mark.services
def test_aws_secret_from_secrets_manager(
    local_services: Environment, isolated_app: AppContext
) -> None:
    aws: Aws = local_services.aws
    client = moto_client(local_services, "secretsmanager")
    name = f"hyperscale/test/{uuid.uuid4().hex[:8]}"
    client.create_secret(Name=name, SecretString=json.dumps({"password": "from-aws"}))
    ref = SecretRef(aws_secret=name, json_key="password")
    assert resolve_secret(isolated_app, ref, aws) == "from-aws"
    with pytest.raises(ConfigError, match="has no JSON key 'user'"):
        resolve_secret(isolated_app, SecretRef(aws_secret=name, json_key="user"), aws)
