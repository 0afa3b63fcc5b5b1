"""`hyperscale kafka acls apply|diff` against the real local broker, and what the ACLs let each
service do there (issue 19 item 5).

The local broker runs Kafka's StandardAuthorizer with a second listener for SASL/SCRAM logins
(``kafka.services.bootstrap_servers``); a resource without an ACL is nobody's there. Each test
has its own SCRAM users, topics and group (named with its prefix), written into a copy of the
local environment, so the platform's own ACLs and other tests' are never in its plan.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from hyperscale.clients.kafka.acl_admin import AclAdmin
from hyperscale.clients.kafka.models import AclRule
from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.support import create_topic

pytestmark = pytest.mark.kafka


class Identities:
    """A test's own copy of the local environment: its users, topics and group."""

    def __init__(self, app: AppContext, tmp_path: Path, prefix: str) -> None:
        self.app = app
        self.prefix = prefix
        self.path = app.environments_dir / "local.yaml"
        self.data: dict[str, Any] = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        kafka = self.data["kafka"]
        self.passwords: dict[str, str] = {}
        for service in ("api", "consumer"):
            secret = tmp_path / f"{service}-password"
            self.passwords[service] = uuid.uuid4().hex
            secret.write_text(self.passwords[service], encoding="utf-8")
            kafka["services"][service] = {
                "username": f"{prefix}-{service}",
                "password": {"file": str(secret)},
            }
        kafka["topics"] = {"orders": f"{prefix}-orders", "events": f"{prefix}-events"}
        kafka["consumer_group"] = f"{prefix}-group"
        self.save()
        env = load_environment(app, "local")
        self.bootstrap = env.kafka.bootstrap
        self.sasl_bootstrap = env.kafka.connection("api").bootstrap
        for topic in ("orders", "events", "orders.dlq", "events.dlq"):
            create_topic(self.bootstrap, f"{prefix}-{topic}", 1)
        AclAdmin(env, app).upsert_scram_users(
            {f"{prefix}-{s}": p for s, p in self.passwords.items()}, "SCRAM-SHA-512"
        )

    def save(self) -> None:
        self.path.write_text(yaml.safe_dump(self.data), encoding="utf-8")

    def user(self, service: str) -> str:
        return f"User:{self.prefix}-{service}"

    def login(self, service: str, password: str | None = None) -> dict[str, Any]:
        """librdkafka settings of a client logged in as ``service`` on the SASL listener."""
        return {
            "bootstrap.servers": self.sasl_bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": f"{self.prefix}-{service}",
            "sasl.password": password or self.passwords[service],
        }

    def broker_acls(self, *principals: str) -> set[AclRule]:
        """The ACLs of ``principals`` as the broker holds them (read on the operators' side)."""
        return set(AclAdmin(load_environment(self.app, "local"), self.app).acls_of(principals))


@pytest.fixture
def ids(isolated_app: AppContext, bootstrap: str, tmp_path: Path, prefix: str) -> Identities:
    return Identities(isolated_app, tmp_path, prefix)


def acls(app: AppContext, *args: str) -> tuple[int, dict[str, Any]]:
    outcome = invoke(app, "kafka", "acls", *args, "--env", "local", "-o", "json")
    return outcome.exit_code, json.loads(outcome.stdout)["data"]


def produce(config: dict[str, Any], topic: str) -> str | None:
    """Produce one record; the delivery error's code name, or None when it was written."""
    from confluent_kafka import Producer

    errors: list[str] = []
    producer = Producer({**config, "linger.ms": 0, "message.timeout.ms": 10000})
    producer.produce(topic, b"x", on_delivery=lambda e, _m: errors.append(e.name()) if e else None)
    assert producer.flush(20) == 0, "the delivery report never came"
    return errors[0] if errors else None


def describe_configs(config: dict[str, Any], topic: str) -> str | None:
    """Read the topic's configs; the error's code name, or None when they were read."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient(config)
    future = admin.describe_configs([ConfigResource("topic", topic)])
    try:
        next(iter(future.values())).result(timeout=20)
    except KafkaException as exc:
        return str(exc.args[0].name())
    return None


def consume(config: dict[str, Any], topic: str, group: str) -> str | bytes:
    """The first record of ``topic`` read in ``group``, or the error's code name."""
    from confluent_kafka import Consumer

    consumer = Consumer({**config, "group.id": group, "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe([topic])
        for _ in range(40):
            message = consumer.poll(0.5)
            if message is None:
                continue
            if message.error():
                return str(message.error().name())
            return bytes(message.value())
        raise AssertionError(f"nothing read from {topic} in {group} within 20 s")
    finally:
        consumer.close()


def test_diff_shows_the_grants_apply_makes_them_and_a_second_apply_finds_nothing(
    ids: Identities,
) -> None:
    code, plan = acls(ids.app, "diff")
    assert code == ExitCode.CHECK_FAILED
    assert plan["principals"] == [ids.user("api"), ids.user("consumer")]
    created = {
        (a["principal"], a["operation"], a["resource_type"], a["resource_name"])
        for a in plan["acls"]
        if a["action"] == "create"
    }
    p = ids.prefix
    assert created == {
        (ids.user("api"), "WRITE", "TOPIC", f"{p}-orders"),
        (ids.user("api"), "DESCRIBE", "TOPIC", f"{p}-orders"),
        (ids.user("api"), "WRITE", "TOPIC", f"{p}-events"),
        (ids.user("api"), "DESCRIBE", "TOPIC", f"{p}-events"),
        *{
            (ids.user("consumer"), op, "TOPIC", f"{p}-{t}")
            for t in ("orders", "events")
            for op in ("READ", "DESCRIBE", "DESCRIBE_CONFIGS")
        },
        *{
            (ids.user("consumer"), op, "TOPIC", f"{p}-{t}.dlq")
            for t in ("orders", "events")
            for op in ("WRITE", "DESCRIBE")
        },
        (ids.user("consumer"), "READ", "GROUP", f"{p}-group"),
    }
    # A dry run changes nothing on the broker.
    code, dry = acls(ids.app, "apply", "--dry-run")
    assert (code, dry["applied"], dry["summary"]["create"]) == (ExitCode.OK, False, 15)
    assert ids.broker_acls(ids.user("api"), ids.user("consumer")) == set()

    code, applied = acls(ids.app, "apply")
    assert (code, applied["applied"]) == (ExitCode.OK, True)
    assert len(ids.broker_acls(ids.user("api"), ids.user("consumer"))) == 15
    code, again = acls(ids.app, "apply")
    assert (code, again["applied"], again["in_sync"]) == (ExitCode.OK, False, True)
    assert acls(ids.app, "diff")[0] == ExitCode.OK


def test_each_service_may_do_only_what_it_uses(ids: Identities) -> None:
    assert acls(ids.app, "apply")[0] == ExitCode.OK
    p = ids.prefix
    api, consumer = ids.login("api"), ids.login("consumer")
    # The API writes orders and events; nothing else, and it reads nothing.
    assert produce(api, f"{p}-orders") is None
    assert produce(api, f"{p}-events") is None
    assert produce(api, f"{p}-orders.dlq") == "TOPIC_AUTHORIZATION_FAILED"
    assert consume(api, f"{p}-orders", f"{p}-group") in {
        "GROUP_AUTHORIZATION_FAILED",
        "TOPIC_AUTHORIZATION_FAILED",
    }
    # The consumer reads the topics' retention (its processed-events pruning), the API not.
    assert describe_configs(consumer, f"{p}-orders") is None
    assert describe_configs(api, f"{p}-orders") == "TOPIC_AUTHORIZATION_FAILED"
    # The consumer reads orders in its own group, and writes dead letters.
    assert consume(consumer, f"{p}-orders", f"{p}-group") == b"x"
    assert consume(consumer, f"{p}-orders", f"{p}-other-group") == "GROUP_AUTHORIZATION_FAILED"
    assert produce(consumer, f"{p}-orders.dlq") is None
    assert produce(consumer, f"{p}-orders") == "TOPIC_AUTHORIZATION_FAILED"
    # A wrong password is no login at all.
    assert produce(ids.login("api", password="wrong"), f"{p}-orders") is not None


def test_an_acl_granted_by_hand_is_drift_and_only_prune_removes_it(ids: Identities) -> None:
    """A right beyond the grants is reported (diff exits 1) but kept by a plain apply, as a
    deploy runs it: another deployment on the cluster may rely on it. `--prune --yes` takes
    it away; a principal the environment does not name is never touched."""
    assert acls(ids.app, "apply")[0] == ExitCode.OK
    env = load_environment(ids.app, "local")
    extra = AclRule(ids.user("api"), "TOPIC", f"{ids.prefix}-orders", "READ")
    stranger = AclRule(f"User:{ids.prefix}-stranger", "TOPIC", f"{ids.prefix}-orders", "READ")
    AclAdmin(env, ids.app).create_acls([extra, stranger])

    code, plan = acls(ids.app, "diff")
    assert code == ExitCode.CHECK_FAILED
    drift = [(a["action"], a["principal"], a["operation"]) for a in plan["acls"]]
    assert [d for d in drift if d[0] != "keep"] == [("extra", ids.user("api"), "READ")]
    code, kept = acls(ids.app, "apply")
    assert (code, kept["applied"], kept["in_sync"]) == (ExitCode.OK, False, False)
    assert extra in ids.broker_acls(ids.user("api"))

    refused = invoke(ids.app, "kafka", "acls", "apply", "--prune", "--env", "local")
    assert refused.exit_code == ExitCode.USAGE
    assert "--yes" in refused.stderr
    code, pruned = acls(ids.app, "apply", "--prune", "--yes")
    assert (code, pruned["applied"], pruned["summary"]["delete"]) == (ExitCode.OK, True, 1)
    left = ids.broker_acls(ids.user("api"), stranger.principal)
    assert extra not in left
    assert stranger in left  # not a principal of this environment: not ours to remove
    assert produce(ids.login("api"), f"{ids.prefix}-orders") is None  # its own grants kept
    assert acls(ids.app, "diff")[0] == ExitCode.OK


def test_a_protected_environment_needs_yes(ids: Identities) -> None:
    ids.data["protected"] = True
    ids.save()
    outcome = invoke(ids.app, "kafka", "acls", "apply", "--env", "local")
    assert outcome.exit_code == ExitCode.USAGE, outcome.stdout + outcome.stderr
    assert "--yes" in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert ids.broker_acls(ids.user("api"), ids.user("consumer")) == set()
    code, applied = acls(ids.app, "apply", "--yes")
    assert (code, applied["applied"]) == (ExitCode.OK, True)


def test_an_environment_without_service_identities_is_told_how_to_add_them(
    ids: Identities,
) -> None:
    del ids.data["kafka"]["services"]
    ids.save()
    outcome = invoke(ids.app, "kafka", "acls", "diff", "--env", "local")
    assert outcome.exit_code == ExitCode.USAGE
    assert outcome.stderr.count("\n") == 1
    assert "kafka.services" in outcome.stderr
