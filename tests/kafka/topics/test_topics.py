"""`hyperscale kafka topics apply|diff` against the real local broker.

Each test renders a template of its own (topics named with the test's prefix, the prune scope
``<prefix>-*``), so the platform's topics and other tests' are never in its plan.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic

pytestmark = pytest.mark.kafka

WEEK_MS = str(7 * 24 * 3600 * 1000)
DAY_MS = str(24 * 3600 * 1000)


# -- builders and independent reads of the broker ---------------------------------------------


def use_template(
    app: AppContext, tmp_path: Path, prefix: str, topics: list[dict[str, Any]]
) -> None:
    """Point ``app`` at a topics template of its own: these topics, prune scope ``prefix-*``."""
    lines = ["topics:"]
    for topic in topics:
        lines += [
            f"  - name: {topic['name']}",
            f"    partitions: {topic['partitions']}",
            f"    replication_factor: {topic.get('replication_factor', 1)}",
            "    config:",
            *[f'      {k}: "{v}"' for k, v in topic.get("config", {}).items()],
        ]
        if not topic.get("config"):
            lines[-1] = "    config: {}"
    lines += ["managed:", f'  - "{prefix}-*"']
    folder = tmp_path / "templates" / "kafka"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "topics.yaml.j2").write_text("\n".join(lines) + "\n", encoding="utf-8")
    app.templates_dir = tmp_path / "templates"


def broker_topics(bootstrap: str) -> dict[str, int]:
    """Topic -> partition count, read with a plain admin client."""
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10)
    return {name: len(t.partitions) for name, t in metadata.topics.items()}


def topic_configs(bootstrap: str, topic: str) -> dict[str, str]:
    """The configs set on the topic itself (not broker defaults)."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._config import ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.describe_configs([ConfigResource("topic", topic)]).values()
    entries = future.result(timeout=10)
    return {
        k: e.value for k, e in entries.items() if int(getattr(e.source, "value", e.source)) == 1
    }


def set_topic_config(bootstrap: str, topic: str, values: dict[str, str]) -> None:
    """Set configs by hand, as an operator would during an incident."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    entries = [
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in values.items()
    ]
    for future in admin.incremental_alter_configs(
        [ConfigResource("topic", topic, incremental_configs=entries)]
    ).values():
        future.result(timeout=10)


def topics_json(app: AppContext, *args: str) -> tuple[int, dict[str, Any]]:
    outcome = invoke(app, "kafka", "topics", *args, "-o", "json")
    return outcome.exit_code, json.loads(outcome.stdout)


def actions(document: dict[str, Any]) -> dict[str, str]:
    return {t["topic"]: t["action"] for t in document["data"]["topics"]}


# -- the tests ----------------------------------------------------------------------------------


def test_dry_run_prints_the_plan_and_changes_nothing(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    orders = f"{prefix}-orders"
    use_template(
        isolated_app,
        tmp_path,
        prefix,
        [{"name": orders, "partitions": 3, "config": {"retention.ms": WEEK_MS}}],
    )

    code, document = topics_json(isolated_app, "apply", "--dry-run")

    assert code == ExitCode.OK
    assert document["data"]["mode"] == "dry-run"
    assert document["data"]["applied"] is False
    [planned] = document["data"]["topics"]
    assert planned["action"] == "create"
    assert planned["partitions"] == {"current": None, "desired": 3}
    assert planned["configs"] == [
        {"key": "retention.ms", "current": None, "desired": WEEK_MS, "effective": None}
    ]
    assert orders not in broker_topics(bootstrap)


def test_apply_creates_and_a_second_run_changes_nothing(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    orders, dlq = f"{prefix}-orders", f"{prefix}-orders.dlq"
    use_template(
        isolated_app,
        tmp_path,
        prefix,
        [
            {
                "name": orders,
                "partitions": 3,
                "config": {"retention.ms": WEEK_MS, "cleanup.policy": "delete"},
            },
            {"name": dlq, "partitions": 1},
        ],
    )

    code, first = topics_json(isolated_app, "apply")
    assert code == ExitCode.OK
    assert actions(first) == {orders: "create", dlq: "create"}
    assert first["data"]["applied"] is True
    on_broker = broker_topics(bootstrap)
    assert (on_broker[orders], on_broker[dlq]) == (3, 1)
    assert topic_configs(bootstrap, orders) == {"retention.ms": WEEK_MS, "cleanup.policy": "delete"}

    code, second = topics_json(isolated_app, "apply")
    assert code == ExitCode.OK
    assert actions(second) == {orders: "unchanged", dlq: "unchanged"}
    assert second["data"]["applied"] is False
    assert second["data"]["in_sync"] is True


def test_partitions_are_added_configs_set_and_hand_set_configs_left_alone(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    orders = create_topic(bootstrap, f"{prefix}-orders", 2)
    set_topic_config(bootstrap, orders, {"retention.ms": DAY_MS, "retention.bytes": "1073741824"})
    use_template(
        isolated_app,
        tmp_path,
        prefix,
        [
            {
                "name": orders,
                "partitions": 4,
                "config": {"retention.ms": WEEK_MS, "compression.type": "zstd"},
            }
        ],
    )

    code, document = topics_json(isolated_app, "apply")

    assert code == ExitCode.OK
    [planned] = document["data"]["topics"]
    assert planned["action"] == "update"
    assert planned["partitions"] == {"current": 2, "desired": 4}
    changes = {c["key"]: (c["current"], c["desired"]) for c in planned["configs"]}
    assert changes == {"retention.ms": (DAY_MS, WEEK_MS), "compression.type": (None, "zstd")}
    assert planned["left_alone"] == {"retention.bytes": "1073741824"}
    assert broker_topics(bootstrap)[orders] == 4
    assert topic_configs(bootstrap, orders) == {
        "retention.ms": WEEK_MS,
        "compression.type": "zstd",
        "retention.bytes": "1073741824",  # set by hand, not in the template: still there
    }
    code, again = topics_json(isolated_app, "diff")
    assert (code, actions(again)) == (ExitCode.OK, {orders: "unchanged"})


def test_fewer_partitions_and_another_replication_factor_are_refused(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    orders = create_topic(bootstrap, f"{prefix}-orders", 4)
    use_template(
        isolated_app,
        tmp_path,
        prefix,
        [
            {
                "name": orders,
                "partitions": 2,
                "replication_factor": 3,
                "config": {"retention.ms": WEEK_MS},
            }
        ],
    )

    outcome = invoke(isolated_app, "kafka", "topics", "apply")

    assert outcome.exit_code == ExitCode.CHECK_FAILED
    text = " ".join(outcome.stdout.split())
    assert f"refused {orders}: partitions 4 -> 2: Kafka cannot remove partitions" in text
    assert "replication factor 1 -> 3: not supported here" in text
    assert broker_topics(bootstrap)[orders] == 4
    # what can be done still is: the config
    assert topic_configs(bootstrap, orders) == {"retention.ms": WEEK_MS}


def test_dry_run_exits_1_when_something_is_refused_and_changes_nothing(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    orders = create_topic(bootstrap, f"{prefix}-orders", 4)
    fresh = f"{prefix}-fresh"
    wanted = [
        {"name": orders, "partitions": 2, "config": {"retention.ms": WEEK_MS}},
        {"name": fresh, "partitions": 1},
    ]
    use_template(isolated_app, tmp_path, prefix, wanted)

    table = invoke(isolated_app, "kafka", "topics", "apply", "--dry-run")
    code, document = topics_json(isolated_app, "apply", "--dry-run")

    assert table.exit_code == ExitCode.CHECK_FAILED
    text = " ".join(table.stdout.split())
    assert f"refused {orders}: partitions 4 -> 2: Kafka cannot remove partitions" in text
    assert "not applied (dry-run): 1 to create, 1 to update" in text
    assert (code, document["status"], document["exit_code"]) == (ExitCode.CHECK_FAILED, "failed", 1)
    assert (document["data"]["mode"], document["data"]["applied"]) == ("dry-run", False)
    planned = {t["topic"]: t for t in document["data"]["topics"]}
    assert len(planned[orders]["refused"]) == 1
    assert (planned[orders]["action"], planned[fresh]["action"]) == ("update", "create")
    # nothing changed: neither what could be done nor what cannot
    on_broker = broker_topics(bootstrap)
    assert (on_broker[orders], fresh in on_broker) == (4, False)
    assert topic_configs(bootstrap, orders) == {}

    # The exit 1 is the refusal's: the same plan without it is a dry run that exits 0.
    wanted[0]["partitions"] = 4
    use_template(isolated_app, tmp_path, prefix, wanted)
    assert invoke(isolated_app, "kafka", "topics", "apply", "--dry-run").exit_code == ExitCode.OK


def test_diff_exits_1_on_drift_and_0_in_sync(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    orders = f"{prefix}-orders"
    use_template(isolated_app, tmp_path, prefix, [{"name": orders, "partitions": 1}])

    drift = invoke(isolated_app, "kafka", "topics", "diff")
    assert drift.exit_code == ExitCode.CHECK_FAILED
    assert "not applied (diff): 1 to create" in drift.stdout
    assert orders not in broker_topics(bootstrap)

    assert invoke(isolated_app, "kafka", "topics", "apply").exit_code == ExitCode.OK
    in_sync = invoke(isolated_app, "kafka", "topics", "diff")
    assert in_sync.exit_code == ExitCode.OK
    assert "in sync" in in_sync.stdout


def test_prune_deletes_only_managed_topics_and_only_with_yes(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    kept = create_topic(bootstrap, f"{prefix}-orders", 1)
    old = create_topic(bootstrap, f"{prefix}-orders-v1", 1)
    unrelated = create_topic(bootstrap, f"other-{prefix}", 1)
    use_template(isolated_app, tmp_path, prefix, [{"name": kept, "partitions": 1}])

    code, without_prune = topics_json(isolated_app, "apply")
    assert code == ExitCode.OK
    assert actions(without_prune) == {kept: "unchanged", old: "orphan"}

    refused = invoke(isolated_app, "kafka", "topics", "apply", "--prune")
    assert refused.exit_code == ExitCode.USAGE
    assert refused.stderr.strip().splitlines() == [
        "error: --prune deletes topics: it needs --yes"
        " (see what it would delete with --prune --dry-run)"
    ]

    code, dry = topics_json(isolated_app, "apply", "--prune", "--dry-run")
    assert (code, actions(dry)) == (ExitCode.OK, {kept: "unchanged", old: "delete"})
    assert old in broker_topics(bootstrap)

    code, pruned = topics_json(isolated_app, "apply", "--prune", "--yes")
    assert (code, actions(pruned)) == (ExitCode.OK, {kept: "unchanged", old: "delete"})
    on_broker = broker_topics(bootstrap)
    assert old not in on_broker
    assert kept in on_broker
    assert unrelated in on_broker


def test_internal_topics_are_never_in_the_prune_scope(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    """A glob that matches every topic, and one that names an `_` topic outright: the
    broker's own topics and the `_` ones tools keep are never pruned, the others are."""
    listed = create_topic(bootstrap, f"{prefix}-a", 1)
    orphan = create_topic(bootstrap, f"{prefix}-b", 1)
    tools = create_topic(bootstrap, f"_{prefix}-schemas", 1)  # as _schemas, _confluent-*...
    commit(bootstrap, f"{prefix}-g", {(listed, 0): 0})  # __consumer_offsets exists
    assert "__consumer_offsets" in broker_topics(bootstrap)
    use_template(isolated_app, tmp_path, prefix, [{"name": listed, "partitions": 1}])
    template = tmp_path / "templates" / "kafka" / "topics.yaml.j2"
    managed = template.read_text()
    template.write_text(managed + '  - "*"\n', encoding="utf-8")  # every topic

    code, dry = topics_json(isolated_app, "apply", "--prune", "--dry-run")

    assert code == ExitCode.OK
    deleting = [t for t, action in actions(dry).items() if action == "delete"]
    assert orphan in deleting  # the glob does reach the topics it may
    assert [t for t in deleting if t.startswith("_")] == []
    assert tools not in actions(dry)

    # Applied for real, with a glob naming the test's own `_` topic: it is still there after.
    template.write_text(managed + f'  - "_{prefix}-*"\n', encoding="utf-8")
    code, pruned = topics_json(isolated_app, "apply", "--prune", "--yes")
    assert (code, actions(pruned)) == (ExitCode.OK, {listed: "unchanged", orphan: "delete"})
    on_broker = broker_topics(bootstrap)
    assert orphan not in on_broker
    assert tools in on_broker


def test_a_protected_environment_needs_yes(
    bootstrap: str, isolated_app: AppContext, tmp_path: Path, prefix: str
) -> None:
    local = isolated_app.environments_dir / "local.yaml"
    local.write_text(local.read_text() + "protected: true\n", encoding="utf-8")
    orders = f"{prefix}-orders"
    use_template(isolated_app, tmp_path, prefix, [{"name": orders, "partitions": 1}])

    refused = invoke(isolated_app, "kafka", "topics", "apply")
    assert refused.exit_code == ExitCode.USAGE
    [line] = refused.stderr.strip().splitlines()
    assert re.match(
        rf"error: local is protected: refusing to change topics \(create {orders}\)", line
    )
    assert orders not in broker_topics(bootstrap)

    assert invoke(isolated_app, "kafka", "topics", "apply", "--dry-run").exit_code == ExitCode.OK
    assert invoke(isolated_app, "kafka", "topics", "apply", "--yes").exit_code == ExitCode.OK
    assert orders in broker_topics(bootstrap)


def test_an_unreachable_broker_is_one_line_and_exit_3(isolated_app: AppContext) -> None:
    outcome = invoke(
        isolated_app, "kafka", "topics", "diff", "--bootstrap", "127.0.0.1:1", "--timeout", "1"
    )
    assert outcome.exit_code == ExitCode.EXTERNAL
    [line] = outcome.stderr.strip().splitlines()
    assert "Kafka at 127.0.0.1:1 is unreachable" in line
