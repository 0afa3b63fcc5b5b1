"""`python -m platform_api` refuses to start on bad settings: one line naming what, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.services.api.support import API_VARIABLES


def start(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in API_VARIABLES} | environment
    return subprocess.run(
        [sys.executable, "-m", "platform_api", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


VALID = {
    "AUTH_ISSUER": "https://issuer.invalid/",
    "AUTH_JWKS_URL": "https://issuer.invalid/jwks.json",
    "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9",
    "MYSQL_WRITER": "127.0.0.1:9",
    "MYSQL_READER": "127.0.0.1:9",
    "MYSQL_DATABASE": "hyperscale",
    "MYSQL_USER": "hyperscale",
    "REDIS_URL": "redis://127.0.0.1:9/0",
}


def test_missing_variables_are_named(tmp_path: Path) -> None:
    result = start({"REDIS_URL": "redis://127.0.0.1:9/0"})
    assert result.returncode == 2
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "MYSQL_WRITER", "MYSQL_PASSWORD_FILE"):
        assert f"platform_api: {name}:" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unreadable_password_file_is_named_and_its_content_never_printed(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "absent"
    result = start(VALID | {"MYSQL_PASSWORD_FILE": str(missing)})
    assert result.returncode == 2
    assert f"MYSQL_PASSWORD_FILE: cannot read {missing}" in result.stderr

    empty = tmp_path / "empty"
    empty.write_text("\n")
    result = start(VALID | {"MYSQL_PASSWORD_FILE": str(empty)})
    assert result.returncode == 2
    assert "MYSQL_PASSWORD_FILE" in result.stderr
    assert "is empty" in result.stderr


def test_sasl_needs_its_credentials(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2")
    result = start(
        VALID | {"MYSQL_PASSWORD_FILE": str(secret), "KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}
    )
    assert result.returncode == 2
    assert "KAFKA_SASL_MECHANISM" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_authentication_cannot_be_left_out() -> None:
    result = start({k: v for k, v in VALID.items() if k != "AUTH_ISSUER"})
    assert result.returncode == 2
    assert "platform_api: AUTH_ISSUER: Field required" in result.stderr.splitlines()


def test_an_unreadable_jwks_file_is_named(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("hunter2")
    missing = tmp_path / "jwks.json"
    settings = {k: v for k, v in VALID.items() if k != "AUTH_JWKS_URL"}
    result = start(settings | {"MYSQL_PASSWORD_FILE": str(secret), "AUTH_JWKS_FILE": str(missing)})
    assert result.returncode == 2
    assert f"AUTH_JWKS_FILE: cannot read {missing}" in result.stderr
    assert "Traceback" not in result.stderr
