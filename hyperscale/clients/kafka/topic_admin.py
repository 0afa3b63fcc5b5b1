"""The Kafka admin calls that reconcile topics: read their live shape and explicit configs,
add partitions, set configs, delete. Each is one batched request for all the topics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.errors import failure_of, unreachable_error
from hyperscale.clients.kafka.models import LiveConfigs, LiveTopic
from hyperscale.errors import ExternalSystemError

#: ConfigSource.DYNAMIC_TOPIC_CONFIG: a value set on the topic itself (at creation or by an
#: alter), as opposed to a broker default, which is what "explicitly set" means here.
_TOPIC_SOURCE = 1


class TopicAdmin(KafkaAdmin):
    def live_topics(self) -> dict[str, LiveTopic]:
        """Every topic on the cluster, internal ones included (the caller decides)."""
        try:
            metadata = self.admin.list_topics(timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001 - KafkaException or a timeout
            raise unreachable_error(self.bootstrap, exc) from None
        return {
            name: LiveTopic(
                name,
                len(topic.partitions),
                len(topic.partitions[0].replicas) if 0 in topic.partitions else 0,
            )
            for name, topic in metadata.topics.items()
            if topic.error is None
        }

    def configs(self, names: Iterable[str]) -> dict[str, LiveConfigs]:
        from confluent_kafka.admin._config import ConfigResource

        wanted = sorted(names)
        if not wanted:
            return {}
        futures = self.admin.describe_configs(
            [ConfigResource("topic", name) for name in wanted], request_timeout=self.timeout
        )
        found: dict[str, LiveConfigs] = {}
        for resource, future in futures.items():
            try:
                entries = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                what = f"the configs of topic {resource.name}"
                raise unreachable_error(self.bootstrap, exc, what) from None
            effective = {k: e.value for k, e in entries.items() if e.value is not None}
            explicit = {
                k: e.value
                for k, e in entries.items()
                if _source(e.source) == _TOPIC_SOURCE and e.value is not None
            }
            found[resource.name] = LiveConfigs(explicit, effective)
        return found

    def add_partitions(self, totals: dict[str, int]) -> None:
        from confluent_kafka.cimpl import NewPartitions

        if not totals:
            return
        futures = self.admin.create_partitions(
            [NewPartitions(name, total) for name, total in totals.items()],
            operation_timeout=self.timeout,
            request_timeout=self.timeout,
        )
        self._await(futures, "adding partitions to")

    def set_configs(self, values: dict[str, dict[str, str]]) -> None:
        """Set these keys on each topic (incremental: the topic's other settings stay)."""
        from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource

        resources = [
            ConfigResource(
                "topic",
                name,
                incremental_configs=[
                    ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
                    for key, value in sorted(changes.items())
                ],
            )
            for name, changes in values.items()
            if changes
        ]
        if not resources:
            return
        futures = self.admin.incremental_alter_configs(resources, request_timeout=self.timeout)
        self._await({r.name: f for r, f in futures.items()}, "setting the configs of")

    def delete(self, names: list[str]) -> None:
        if not names:
            return
        futures = self.admin.delete_topics(names, operation_timeout=self.timeout)
        self._await(futures, "deleting", tolerate="UNKNOWN_TOPIC_OR_PART")

    def _await(self, futures: dict[str, Any], doing: str, tolerate: str = "") -> None:
        for name, future in futures.items():
            try:
                future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                failure = failure_of(exc)
                if tolerate and failure.name == tolerate:
                    continue  # already done by someone else: what we wanted
                raise ExternalSystemError(
                    f"{doing} topic {name} on {self.bootstrap} failed: {failure.text}"
                ) from None


def _source(source: Any) -> int:
    """ConfigSource is an enum in confluent_kafka, an int in older releases."""
    return int(getattr(source, "value", source))
