"""The difference between the template's topics and the cluster's, as a plan. Pure: no I/O.

Per topic in the template:

- absent from the cluster: **create** it with its partitions, replication factor and configs;
- fewer partitions than wanted: **add partitions** (Kafka can only add);
- more partitions than wanted: **refused** (Kafka cannot remove partitions), reported;
- another replication factor: **unsupported** (a reassignment, not a config), reported;
- a config key of the template whose value differs from the one *set on the topic*
  (DYNAMIC_TOPIC_CONFIG, not a broker default) or is not set on it: **set** it;
- a config set on the topic but absent from the template: **left alone** and reported, so a
  hand-made emergency setting (say retention.bytes during an incident) is never undone by a
  routine apply.

Per topic on the cluster that is not in the template but that the template *manages* (its
``managed`` globs; never an internal ``_``/``__`` topic): **delete** with ``--prune``, otherwise
reported as an **orphan** and kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from hyperscale.clients.kafka.models import LiveConfigs, LiveTopic
from hyperscale.kafka.topics.template import TopicsTemplate


class TopicAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"
    #: Managed by the template, absent from it, kept because --prune was not given.
    ORPHAN = "orphan"


@dataclass(frozen=True)
class ConfigChange:
    key: str
    #: The value set on the topic; None when only a default applies.
    current: str | None
    desired: str
    #: The value in force now (a default when ``current`` is None); None for a new topic.
    effective: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "current": self.current,
            "desired": self.desired,
            "effective": self.effective,
        }


@dataclass(frozen=True)
class TopicDiff:
    name: str
    action: TopicAction
    #: (on the cluster, in the template); None on the side where the topic is absent.
    partitions: tuple[int | None, int | None]
    replication_factor: tuple[int | None, int | None]
    configs: list[ConfigChange] = field(default_factory=list)
    #: Set on the topic, absent from the template: left as they are.
    left_alone: dict[str, str] = field(default_factory=dict)
    #: What the template asks that Kafka cannot do here, one sentence each.
    refused: list[str] = field(default_factory=list)

    @property
    def adds_partitions(self) -> bool:
        current, desired = self.partitions
        return (
            self.action is TopicAction.UPDATE
            and current is not None
            and desired is not None
            and desired > current
        )

    @property
    def pending(self) -> bool:
        """A change apply would make."""
        return self.action in (TopicAction.CREATE, TopicAction.UPDATE, TopicAction.DELETE)

    def to_data(self) -> dict[str, Any]:
        return {
            "topic": self.name,
            "action": self.action.value,
            "partitions": {"current": self.partitions[0], "desired": self.partitions[1]},
            "replication_factor": {
                "current": self.replication_factor[0],
                "desired": self.replication_factor[1],
            },
            "configs": [c.to_data() for c in self.configs],
            "left_alone": self.left_alone,
            "refused": self.refused,
        }


def plan_topics(
    template: TopicsTemplate,
    live: Mapping[str, LiveTopic],
    configs: Mapping[str, LiveConfigs],
    *,
    prune: bool,
) -> list[TopicDiff]:
    """The template against the cluster: one diff per template topic, then one per managed
    topic the template no longer lists (delete with ``prune``, else orphan), sorted by name."""
    diffs = [
        _diff(spec.name, spec.partitions, spec.replication_factor, spec.config, live, configs)
        for spec in template.topics
    ]
    listed = {spec.name for spec in template.topics}
    for name in sorted(set(live) - listed):
        if not template.manages(name):
            continue
        topic = live[name]
        diffs.append(
            TopicDiff(
                name,
                TopicAction.DELETE if prune else TopicAction.ORPHAN,
                (topic.partitions, None),
                (topic.replication_factor, None),
            )
        )
    return sorted(diffs, key=lambda d: d.name)


def _diff(
    name: str,
    partitions: int,
    replication_factor: int,
    desired: Mapping[str, str],
    live: Mapping[str, LiveTopic],
    configs: Mapping[str, LiveConfigs],
) -> TopicDiff:
    topic = live.get(name)
    if topic is None:
        return TopicDiff(
            name,
            TopicAction.CREATE,
            (None, partitions),
            (None, replication_factor),
            [ConfigChange(k, None, v) for k, v in sorted(desired.items())],
        )
    found = configs.get(name, LiveConfigs({}, {}))
    changes = [
        ConfigChange(key, found.explicit.get(key), value, found.effective.get(key))
        for key, value in sorted(desired.items())
        if found.explicit.get(key) != value
    ]
    refused = []
    if partitions < topic.partitions:
        refused.append(
            f"partitions {topic.partitions} -> {partitions}: Kafka cannot remove partitions"
            f" (keep {topic.partitions} in the template, or recreate the topic by hand)"
        )
    if replication_factor != topic.replication_factor:
        refused.append(
            f"replication factor {topic.replication_factor} -> {replication_factor}: not"
            " supported here, it needs a partition reassignment (kafka-reassign-partitions.sh)"
        )
    grows = partitions > topic.partitions
    return TopicDiff(
        name,
        TopicAction.UPDATE if grows or changes else TopicAction.UNCHANGED,
        (topic.partitions, partitions),
        (topic.replication_factor, replication_factor),
        changes,
        {k: v for k, v in sorted(found.explicit.items()) if k not in desired},
        refused,
    )


def config_updates(diffs: Sequence[TopicDiff]) -> dict[str, dict[str, str]]:
    """topic -> the keys to set, for the topics being updated."""
    return {
        d.name: {c.key: c.desired for c in d.configs}
        for d in diffs
        if d.action is TopicAction.UPDATE and d.configs
    }
