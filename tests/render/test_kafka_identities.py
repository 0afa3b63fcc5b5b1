"""Issue 19 item 5 in the rendered tree: each service logs in to MSK as itself, with its own
SCRAM secret; the operators' identity reaches no pod; MSK takes the services' secrets and
refuses what no ACL grants."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.config.loader import parse_environment_file
from hyperscale.errors import ConfigError
from hyperscale.render.values import template_values

REPO = Path(__file__).resolve().parents[2]


def documents(relative: str) -> list[dict[str, Any]]:
    text = (REPO / relative).read_text(encoding="utf-8")
    return [d for d in yaml.safe_load_all(text) if d]


def container_env(relative: str) -> tuple[dict[str, str], set[str]]:
    """The first container's env (name -> value) and the Secrets the pod mounts."""
    (deployment,) = documents(relative)
    pod = deployment["spec"]["template"]["spec"]
    env = {e["name"]: e.get("value", "") for e in pod["containers"][0].get("env", [])}
    secrets = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}
    return env, secrets


@pytest.mark.parametrize("env_name", ["staging", "prod"])
def test_each_service_mounts_only_its_own_kafka_secret(env_name: str) -> None:
    root = f"manifests/{env_name}"
    for service, other in (("api", "consumer"), ("consumer", "api")):
        env, secrets = container_env(f"{root}/{service}/deployment.yaml")
        assert env["KAFKA_SASL_USERNAME"] == f"hyperscale-{service}"
        assert env["KAFKA_SASL_PASSWORD_FILE"] == (
            f"/var/run/secrets/hyperscale/platform-kafka-{service}/sasl-password"
        )
        assert f"platform-kafka-{service}" in secrets
        assert f"platform-kafka-{other}" not in secrets
        assert "platform-kafka" not in secrets  # the operators' password reaches no pod
    (configmap,) = documents(f"{root}/config/configmap.yaml")
    assert "KAFKA_SASL_USERNAME" not in configmap["data"]
    assert configmap["data"]["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    remote = {
        d["metadata"]["name"]: d["spec"]["data"][0]["remoteRef"]["key"]
        for d in documents(f"{root}/config/external-secrets.yaml")
        if d["kind"] == "ExternalSecret"
    }
    assert remote["platform-kafka-api"] == f"AmazonMSK_hyperscale-{env_name}-api"
    assert remote["platform-kafka-consumer"] == f"AmazonMSK_hyperscale-{env_name}-consumer"
    assert "platform-kafka" not in remote


@pytest.mark.parametrize("env_name", ["staging", "prod"])
def test_msk_takes_every_scram_secret_and_refuses_what_no_acl_grants(env_name: str) -> None:
    root = (REPO / f"terraform/live/{env_name}/msk/main.tf").read_text(encoding="utf-8")
    names = re.search(r"scram_secret_names\s*=\s*(\[.*\])", root)
    assert names is not None
    assert yaml.safe_load(names.group(1)) == [
        f"AmazonMSK_hyperscale-{env_name}-{who}" for who in ("ops", "api", "consumer")
    ]
    assert re.search(r"^\s*deny_without_acl\s*=\s*true$", root, re.MULTILINE)
    module = (REPO / "terraform/modules/msk/main.tf").read_text(encoding="utf-8")
    assert "allow.everyone.if.no.acl.found=${!var.deny_without_acl}" in module


def without_services(tmp_path: Path, name: str) -> Path:
    data = yaml.safe_load((REPO / "environments" / f"{name}.yaml").read_text(encoding="utf-8"))
    del data["kafka"]["services"]
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_without_service_identities_both_share_the_operators_secret(tmp_path: Path) -> None:
    values = template_values(parse_environment_file(without_services(tmp_path, "prod")))
    assert values["kafka"]["per_service"] is False
    assert "platform-kafka" in values["secret_users"]["api"]
    assert "platform-kafka" in values["secret_users"]["consumer"]
    assert values["kafka"]["api"].username == "hyperscale-ops"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"protocol": None}, "kafka.services needs a SASL protocol"),
        ({"consumer": {"username": "hyperscale-api"}}, "need their own usernames"),
    ],
)
def test_service_identities_are_checked(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    data = yaml.safe_load((REPO / "environments/local.yaml").read_text(encoding="utf-8"))
    services = data["kafka"]["services"]
    for key, value in change.items():
        if value is None:
            del services[key]
        elif isinstance(value, dict):
            services[key] |= value
    path = tmp_path / "local.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        parse_environment_file(path)
    assert message in raised.value.message
