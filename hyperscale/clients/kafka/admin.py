"""The admin side of a Kafka cluster (confluent_kafka's AdminClient), with the environment's
security: topics, consumer groups, their offsets, and the partitions' offsets and times.

Each call is one batched request (or, for committed offsets, one request per group, many in
flight at once), so the cost stays a few round trips however many partitions there are.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from hyperscale.clients.kafka.config import client_config
from hyperscale.clients.kafka.errors import (
    RETRY_PAUSE_S,
    KafkaCallError,
    failure_of,
    unreachable_error,
)
from hyperscale.clients.kafka.models import (
    ClusterSummary,
    GroupDescription,
    NewTopicSpec,
    TimedOffset,
    TopicPartitionKey,
    TopicState,
    Watermarks,
)
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError

#: Offset fetches (one per group) outstanding at once: enough to keep the coordinator busy.
OFFSET_FETCHES_IN_FLIGHT = 64


class KafkaAdmin:
    def __init__(self, env: Environment, app: AppContext, timeout: float = 10.0) -> None:
        from confluent_kafka.admin import AdminClient

        self.env = env
        self.app = app
        self.timeout = timeout
        self.admin = AdminClient(client_config(env, app))

    @property
    def bootstrap(self) -> str:
        return self.env.kafka.bootstrap

    def topics(self) -> dict[str, TopicState]:
        """The cluster's topics, without the internal ``__`` ones."""
        from confluent_kafka import KafkaException

        try:
            metadata = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise unreachable_error(self.bootstrap, exc) from None
        return {
            name: TopicState(name, len(topic.partitions))
            for name, topic in metadata.topics.items()
            if not name.startswith("__")
        }

    def create(self, specs: list[NewTopicSpec]) -> None:
        """Create the topics; one that exists already (made concurrently) is what we wanted."""
        from confluent_kafka import KafkaException
        from confluent_kafka.cimpl import NewTopic

        if not specs:
            return
        futures = self.admin.create_topics(
            [
                NewTopic(
                    s.name,
                    num_partitions=s.partitions,
                    replication_factor=s.replication_factor,
                    config=s.config,
                )
                for s in specs
            ],
            operation_timeout=self.timeout,
        )
        for name, future in futures.items():
            try:
                future.result(timeout=self.timeout)
            except KafkaException as exc:
                failure = failure_of(exc)
                if failure.name == "TOPIC_ALREADY_EXISTS":
                    continue
                raise ExternalSystemError(f"creating topic {name} failed: {failure.text}") from None

    def consumer_groups(self) -> list[tuple[str, str]]:
        """Every consumer group on the cluster as (group id, state).

        A broker that answers that its group coordinator is busy (still loading its partitions
        after a restart) is asked again until the timeout: librdkafka neither retries this
        request nor flags that error retriable, and the broker is up, not unreachable."""
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                listing = self.admin.list_consumer_groups(request_timeout=self.timeout).result(
                    timeout=self.timeout + 5
                )
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                raise unreachable_error(self.bootstrap, exc) from None
            retriable = all(failure_of(e).passing for e in listing.errors)
            if not listing.errors or not retriable or time.monotonic() >= deadline:
                break
            time.sleep(RETRY_PAUSE_S)
        if listing.errors and not listing.valid:
            raise unreachable_error(self.bootstrap, listing.errors[0], "the consumer groups")
        if listing.errors:  # some broker did not answer: a partial list would hide groups
            raise ExternalSystemError(
                f"listing consumer groups on {self.bootstrap} failed: {listing.errors[0]}",
                hint="retry, or check the brokers with `hyperscale local status`",
            )
        return [(g.group_id, _state_name(g.state)) for g in listing.valid]

    def describe_groups(self, group_ids: list[str]) -> dict[str, GroupDescription]:
        if not group_ids:
            return {}
        futures = self.admin.describe_consumer_groups(group_ids, request_timeout=self.timeout)
        described: dict[str, GroupDescription] = {}
        for group_id, future in futures.items():
            try:
                desc = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                raise unreachable_error(self.bootstrap, exc, f"group {group_id}") from None
            assigned = {
                (tp.topic, tp.partition): member.client_id
                for member in desc.members
                for tp in (member.assignment.topic_partitions if member.assignment else [])
            }
            described[group_id] = GroupDescription(
                group_id, _state_name(desc.state), len(desc.members), assigned
            )
        return described

    def committed_offsets(self, group_ids: list[str]) -> dict[str, dict[TopicPartitionKey, int]]:
        """Committed offsets per group: one request per group (librdkafka asks for one group at
        a time), at most ``OFFSET_FETCHES_IN_FLIGHT`` of them outstanding.

        A broker answers one connection's requests in order, so thousands sent at once would
        queue behind each other, and each request's timeout runs from when it was made: on a
        busy broker the last ones would time out while the broker was answering the first. A
        request is made only when a slot is free, so its timeout covers its own answer."""
        from confluent_kafka import ConsumerGroupTopicPartitions

        slots = threading.BoundedSemaphore(OFFSET_FETCHES_IN_FLIGHT)
        futures = {}
        for group_id in group_ids:
            if not slots.acquire(timeout=self.timeout + 5):
                raise unreachable_error(self.bootstrap, "no answer", "consumer group offsets")
            future = self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout
            )[group_id]
            future.add_done_callback(lambda _: slots.release())
            futures[group_id] = future
        committed: dict[str, dict[TopicPartitionKey, int]] = {}
        for group_id, future in futures.items():
            try:
                result = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                what = f"the offsets of group {group_id}"
                raise unreachable_error(self.bootstrap, exc, what) from None
            committed[group_id] = {
                (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or []
            }
        return committed

    def watermarks(
        self, partitions: list[TopicPartitionKey], *, skip_unknown: bool = False
    ) -> dict[TopicPartitionKey, Watermarks]:
        """Log-start and log-end (high watermark) offsets: two batched requests, in flight
        together. With ``skip_unknown``, a partition whose topic (or the partition itself) no
        longer exists is left out of the answer instead of failing it."""
        from confluent_kafka import TopicPartition

        spec = _offset_spec()

        if not partitions:
            return {}
        earliest = self.admin.list_offsets(
            {TopicPartition(t, p): spec.earliest() for t, p in partitions},
            request_timeout=self.timeout,
        )
        latest = self.admin.list_offsets(
            {TopicPartition(t, p): spec.latest() for t, p in partitions},
            request_timeout=self.timeout,
        )
        starts = self._offsets(earliest, skip_unknown=skip_unknown)
        ends = self._offsets(latest, skip_unknown=skip_unknown)
        return {
            tp: Watermarks(starts[tp][0], ends[tp][0])
            for tp in partitions
            if tp in starts and tp in ends
        }

    def max_timestamps(
        self, partitions: list[TopicPartitionKey]
    ) -> dict[TopicPartitionKey, TimedOffset]:
        """The offset and timestamp of each partition's newest record (KIP-734), one request."""
        from confluent_kafka import TopicPartition

        spec = _offset_spec()

        if not partitions:
            return {}
        futures = self.admin.list_offsets(
            {TopicPartition(t, p): spec.max_timestamp() for t, p in partitions},
            request_timeout=self.timeout,
        )
        return {
            tp: TimedOffset(offset, timestamp_ms)
            for tp, (offset, timestamp_ms) in self._offsets(futures).items()
            if offset >= 0 and timestamp_ms >= 0
        }

    def first_records(
        self, wanted: set[tuple[str, int, int]], timeout: float, lanes: int = 2
    ) -> dict[tuple[str, int, int], TimedOffset | None]:
        """For each (topic, partition, offset): the first readable record at or after the offset
        (offset and timestamp), or None when there is none before the log end. See
        hyperscale.clients.kafka.record_probe."""
        from hyperscale.clients.kafka.record_probe import first_records

        return first_records(self.env, self.app, wanted, timeout, lanes)

    def _offsets(
        self, futures: dict[Any, Any], *, skip_unknown: bool = False
    ) -> dict[TopicPartitionKey, tuple[int, int]]:
        found: dict[TopicPartitionKey, tuple[int, int]] = {}
        for tp, future in futures.items():
            try:
                info = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                if skip_unknown and failure_of(exc).name == "UNKNOWN_TOPIC_OR_PART":
                    continue
                what = f"the offsets of {tp.topic}[{tp.partition}]"
                raise unreachable_error(self.bootstrap, exc, what) from None
            found[(tp.topic, tp.partition)] = (info.offset, info.timestamp)
        return found


def cluster_summary(bootstrap: str, timeout: float = 3.0) -> ClusterSummary:
    """One DescribeCluster against a plain address, no environment: the readiness probe of a
    broker this machine started. Any failure is a KafkaCallError with the client's words."""
    from confluent_kafka.admin import AdminClient

    # log_level 0: while the broker starts, every refused connection would be logged; the
    # caller reports the failure itself.
    admin = AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 2000, "log_level": 0})
    try:
        cluster = admin.describe_cluster(request_timeout=timeout).result(timeout=timeout + 1)
    except Exception as exc:  # noqa: BLE001 - librdkafka surfaces timeouts as several types
        raise KafkaCallError(failure_of(exc)) from None
    return ClusterSummary(str(cluster.cluster_id), len(cluster.nodes))


def _offset_spec() -> Any:
    """confluent_kafka's OffsetSpec: untyped, and not exported by the admin module's __all__."""
    from confluent_kafka.admin import _listoffsets

    return _listoffsets.OffsetSpec


def _state_name(state: Any) -> str:
    """``ConsumerGroupState.STABLE`` -> ``Stable``, the word Kafka's own tools print."""
    name = str(getattr(state, "name", state))
    return {
        "PREPARING_REBALANCING": "PreparingRebalance",
        "COMPLETING_REBALANCING": "CompletingRebalance",
    }.get(name, name.title().replace("_", ""))
