"""A group whose offsets outlived their topic: reported and skipped, never a failure.

The broker drops a deleted topic's committed offsets shortly after the deletion, so the state a
user meets (offsets read, then the topic gone when the end offsets are asked) only lasts a
moment. The tests make that moment certain: they delete the real topic right after the command
has read the group's real committed offsets (a wrapper around the adapter's read, which still
goes to the broker), exactly where the race falls in production.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic, delete_topic, produce

pytestmark = pytest.mark.kafka


def delete_after_offsets_are_read(
    monkeypatch: pytest.MonkeyPatch, bootstrap: str, topic: str
) -> None:
    """Delete ``topic`` on the broker as soon as the command has read committed offsets."""
    read: Callable[..., Any] = KafkaAdmin.committed_offsets

    def then_delete(self: KafkaAdmin, group_ids: list[str]) -> Any:
        offsets = read(self, group_ids)
        delete_topic(bootstrap, topic)
        return offsets

    monkeypatch.setattr(KafkaAdmin, "committed_offsets", then_delete)


def test_offsets_on_a_deleted_topic_are_reported_and_skipped(
    bootstrap: str, isolated_app: AppContext, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = create_topic(bootstrap, f"{prefix}-gone", 2)
    kept = create_topic(bootstrap, f"{prefix}-kept", 1)
    now = int(time.time() * 1000)
    produce(bootstrap, kept, 0, [now - 1000, now - 500, now])
    produce(bootstrap, gone, 1, [now])
    group = f"{prefix}-g"
    commit(bootstrap, group, {(gone, 0): 0, (gone, 1): 1, (kept, 0): 1})
    delete_after_offsets_are_read(monkeypatch, bootstrap, gone)

    outcome = invoke(isolated_app, "kafka", "lag", "-g", group, "-o", "json")

    assert outcome.exit_code == ExitCode.OK, outcome.stderr
    [found] = json.loads(outcome.stdout)["data"]["groups"]
    assert found["topic_deleted"] == [
        {"topic": gone, "partition": 0, "committed_offset": 0},
        {"topic": gone, "partition": 1, "committed_offset": 1},
    ]
    assert [(p["topic"], p["partition"], p["lag_messages"]) for p in found["partitions"]] == [
        (kept, 0, 2)
    ]


def test_the_table_names_the_deleted_topic_and_thresholds_still_apply(
    bootstrap: str, isolated_app: AppContext, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = create_topic(bootstrap, f"{prefix}-gone", 1)
    kept = create_topic(bootstrap, f"{prefix}-kept", 1)
    now = int(time.time() * 1000)
    produce(bootstrap, kept, 0, [now] * 5)
    group = f"{prefix}-g"
    commit(bootstrap, group, {(gone, 0): 0, (kept, 0): 0})
    delete_after_offsets_are_read(monkeypatch, bootstrap, gone)

    outcome = invoke(isolated_app, "kafka", "lag", "-g", group, "--max-lag", "3")

    assert outcome.exit_code == ExitCode.CHECK_FAILED  # the topic that exists lags 5 > 3
    text = " ".join(outcome.stdout.split())
    assert f"topic_deleted {gone}: the group has offsets on a topic that no longer exists" in text
    assert f"{group} {kept}[0]: lag 5 messages > 3 messages" in text
