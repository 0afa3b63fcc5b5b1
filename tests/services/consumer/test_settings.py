"""Configuration comes only from the environment; a bad one stops the process with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hyperscale.context import PROJECT_ROOT


def run_consumer(environ: dict[str, str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MYSQL_", "CONSUMER_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "platform_consumer"],
        env=base | environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PROJECT_ROOT,
        check=False,
    )


def complete_environ(password_file: Path) -> dict[str, str]:
    return {
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "MYSQL_WRITER": "127.0.0.1:1",
        "MYSQL_DATABASE": "hyperscale",
        "MYSQL_USER": "hyperscale",
        "MYSQL_PASSWORD_FILE": str(password_file),
    }


def test_settings_defaults_and_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from platform_consumer.settings import ConsumerSettings

    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    for name, value in complete_environ(secret).items():
        monkeypatch.setenv(name, value)
    settings = ConsumerSettings()  # type: ignore[call-arg]
    assert settings.kafka_security_protocol == "PLAINTEXT"
    assert settings.topics == ("orders", "marketing-events")
    assert settings.dead_letter_topic("orders") == "orders.dlq"
    assert settings.consumer_group == "platform-consumer"
    assert (settings.consumer_batch_size, settings.consumer_batch_wait_ms) == (500, 200)
    assert settings.consumer_max_attempts == 5
    assert (settings.consumer_metrics_host, settings.consumer_metrics_port) == ("127.0.0.1", 19102)
    assert settings.mysql_tls is False
    assert settings.mysql_password().get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_missing_settings_exit_2_naming_each_variable() -> None:
    result = run_consumer({})
    assert result.returncode == 2
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["msg"] == "invalid configuration"
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "MYSQL_WRITER", "MYSQL_PASSWORD_FILE"):
        assert name in line["errors"]
    assert "Traceback" not in result.stderr


def test_bad_values_exit_2_without_echoing_the_secret(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("do-not-print-me")
    environ = complete_environ(secret) | {"MYSQL_WRITER": "no-port", "CONSUMER_BATCH_SIZE": "0"}
    result = run_consumer(environ)
    assert result.returncode == 2
    assert "MYSQL_WRITER" in result.stderr
    assert "CONSUMER_BATCH_SIZE" in result.stderr
    assert "do-not-print-me" not in result.stderr

    missing = complete_environ(tmp_path / "absent")
    result = run_consumer(missing)
    assert result.returncode == 2
    assert "MYSQL_PASSWORD_FILE" in result.stderr


def test_sasl_needs_its_settings(tmp_path: Path) -> None:
    secret = tmp_path / "pw"
    secret.write_text("x")
    environ = complete_environ(secret) | {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}
    result = run_consumer(environ)
    assert result.returncode == 2
    assert "KAFKA_SASL_MECHANISM" in result.stderr
    assert "KAFKA_SASL_PASSWORD_FILE" in result.stderr
