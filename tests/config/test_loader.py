"""Every environment-file error is one line naming the file, the line, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke


def _edit(app: AppContext, name: str, edit: object) -> Path:
    path = app.environments_dir / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _error(app: AppContext, name: str = "local") -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_environment(app, name)
    return caught.value


@pytest.mark.parametrize("name", ["local", "sandbox", "staging", "prod"])
def test_shipped_environments_load(isolated_app: AppContext, name: str) -> None:
    env = load_environment(isolated_app, name)
    assert env.name == name
    assert env.slo.api_p95_ms == 200
    assert env.slo.api_error_rate_pct == 1.0
    assert env.slo.consumer_lag_messages == 10_000


def test_prod_is_protected_and_targets_kubernetes(isolated_app: AppContext) -> None:
    prod = load_environment(isolated_app, "prod")
    assert prod.protected
    assert prod.target.kind == "kubernetes"
    assert prod.target.context


def test_env_var_selects_the_environment(isolated_app: AppContext) -> None:
    isolated_app.environ["HYPERSCALE_ENV"] = "staging"
    assert load_environment(isolated_app).name == "staging"
    assert load_environment(isolated_app, "prod").name == "prod"  # --env wins


def test_unknown_environment_lists_the_known_ones(isolated_app: AppContext) -> None:
    err = _error(isolated_app, "qa")
    assert err.exit_code == ExitCode.USAGE
    assert "unknown environment 'qa' (from --env)" in err.message
    assert "local, local-aws, prod, sandbox, staging" in (err.hint or "")


def test_malformed_yaml_names_file_line_and_column(isolated_app: AppContext) -> None:
    path = isolated_app.environments_dir / "local.yaml"
    path.write_text("name: local\ntarget:\n  kind: [local\n")
    err = _error(isolated_app)
    assert err.message.startswith(f"{path}:4:")
    assert "invalid YAML" in err.message


def test_unknown_key_lists_the_allowed_keys(isolated_app: AppContext) -> None:
    path = _edit(isolated_app, "local", lambda d: d["kafka"].update(bootstrap="x"))
    err = _error(isolated_app)
    line = next(
        i for i, text in enumerate(path.read_text().splitlines(), 1) if "bootstrap:" in text
    )
    assert err.message == (
        f"{path}:{line}: kafka.bootstrap: unknown key; allowed keys here: "
        "bootstrap_servers, consumer_group, security, services, topics"
    )


def test_bad_value_names_the_key_and_the_allowed_values(isolated_app: AppContext) -> None:
    path = _edit(isolated_app, "local", lambda d: d["kafka"].update(security={"protocol": "TLS"}))
    err = _error(isolated_app)
    assert str(path) in err.message
    assert "kafka.security.protocol" in err.message
    assert "'PLAINTEXT', 'SSL', 'SASL_PLAINTEXT' or 'SASL_SSL'" in err.message
    assert "(got 'TLS')" in err.message


def test_bad_endpoint_says_the_expected_form(isolated_app: AppContext) -> None:
    _edit(isolated_app, "local", lambda d: d["redis"].update(endpoint="localhost"))
    err = _error(isolated_app)
    assert (
        "redis.endpoint: must be host:port, for example 127.0.0.1:9092 (got 'localhost')"
        in err.message
    )


def test_missing_key_is_named(isolated_app: AppContext) -> None:
    _edit(isolated_app, "local", lambda d: d["mysql"].pop("database"))
    err = _error(isolated_app)
    assert "mysql.database: required key is missing" in err.message


def test_several_problems_are_each_reported(isolated_app: AppContext) -> None:
    def two_problems(d: dict) -> None:
        d["slo"]["api_p95_ms"] = -5
        d["aws"]["region"] = "mars"

    _edit(isolated_app, "local", two_problems)
    err = _error(isolated_app)
    lines = err.lines()
    assert len(lines) == 2
    assert any("aws.region" in line for line in lines)
    assert any("slo.api_p95_ms" in line and "greater than 0" in line for line in lines)


def test_a_literal_password_is_rejected_without_echoing_it(isolated_app: AppContext) -> None:
    _edit(isolated_app, "staging", lambda d: d["mysql"].update(password="hunter2-secret"))
    err = _error(isolated_app, "staging")
    assert "mysql.password" in err.message
    assert "hunter2-secret" not in " ".join(err.lines())


def test_local_target_refuses_non_loopback_addresses(isolated_app: AppContext) -> None:
    path = _edit(isolated_app, "local", lambda d: d["mysql"].update(writer="db.example.com:3306"))
    err = _error(isolated_app)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if "db.example.com" in t)
    assert f"{path}:{line}: mysql.writer: a local target binds only to loopback" in err.message
    assert "(got db.example.com:3306)" in err.message


def test_cross_field_rules_point_at_their_own_keys(isolated_app: AppContext) -> None:
    def two_rules(d: dict) -> None:
        port = d["mysql"]["writer"].rsplit(":", 1)[1]
        d["mysql"]["reader"] = f"localhost:{port}"  # the writer's port: the same server
        d["kafka"]["security"] = {
            "protocol": "SASL_SSL",
            "sasl_mechanism": "SCRAM-SHA-512",
            "username": "u",
            "password": {"env": "KAFKA_PASSWORD"},
        }

    path = _edit(isolated_app, "local", two_rules)
    lines = _error(isolated_app).lines()
    text = path.read_text().splitlines()
    reader_line = next(i for i, t in enumerate(text, 1) if "localhost:" in t)
    assert (
        f"{path}:{reader_line}: mysql.reader: the local replica needs a port of its own"
        in (lines[0])
    )
    assert any(
        "kafka.security.protocol: the local broker speaks PLAINTEXT only" in x for x in lines
    )
    assert any("kafka.security.password: a local target uses generated secrets" in x for x in lines)


def test_generated_secrets_are_refused_outside_local(isolated_app: AppContext) -> None:
    _edit(isolated_app, "staging", lambda d: d["mysql"].update(password={"generated": "pw"}))
    err = _error(isolated_app, "staging")
    assert "mysql.password: generated secrets exist only for the local target" in err.message


def test_unreadable_bytes_are_a_config_error(isolated_app: AppContext) -> None:
    path = isolated_app.environments_dir / "local.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    err = _error(isolated_app)
    assert err.message == f"{path}: not UTF-8 text (byte 9)"
    assert err.exit_code == ExitCode.USAGE


def test_kubernetes_target_needs_a_context(isolated_app: AppContext) -> None:
    _edit(isolated_app, "staging", lambda d: d["target"].pop("context"))
    err = _error(isolated_app, "staging")
    assert "target: a kubernetes target needs a context" in err.message


def test_name_must_match_the_file(isolated_app: AppContext) -> None:
    _edit(isolated_app, "staging", lambda d: d.update(name="prod"))
    err = _error(isolated_app, "staging")
    assert "does not match the file name" in err.message
    assert err.hint == "set name: staging"


def test_cli_reports_config_errors_as_one_line_with_exit_2(isolated_app: AppContext) -> None:
    _edit(isolated_app, "local", lambda d: d["kafka"].update(bootstrap="x"))
    outcome = invoke(isolated_app, "local", "status")
    assert outcome.exit_code == 2
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert "kafka.bootstrap: unknown key" in lines[0]
    assert "Traceback" not in outcome.stderr
