"""The adapter to a Kafka cluster's admin API (confluent_kafka), with the environment's security."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.kafka.topics import TopicSpec

log = logging.getLogger(__name__)


def client_config(
    env: Environment, app: AppContext, bootstrap: str | None = None
) -> dict[str, Any]:
    """librdkafka settings for the environment: bootstrap, TLS/SASL (MSK), quiet logging."""
    security = env.kafka.security
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap or env.kafka.bootstrap,
        "security.protocol": security.protocol,
        "logger": logging.getLogger("hyperscale.librdkafka"),
    }
    if security.sasl_mechanism:
        config["sasl.mechanism"] = security.sasl_mechanism
        config["sasl.username"] = security.username
        if security.password is not None:
            config["sasl.password"] = resolve_secret(app, security.password, env.aws)
    if security.ca_file:
        config["ssl.ca.location"] = security.ca_file
    return config


@dataclass(frozen=True)
class TopicState:
    name: str
    partitions: int


class KafkaAdmin:
    def __init__(self, env: Environment, app: AppContext, timeout: float = 10.0) -> None:
        from confluent_kafka.admin import AdminClient

        self.env = env
        self.timeout = timeout
        self.admin = AdminClient(client_config(env, app))

    def topics(self) -> dict[str, TopicState]:
        from confluent_kafka import KafkaException

        try:
            metadata = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise ExternalSystemError(
                f"Kafka at {self.env.kafka.bootstrap} is unreachable: {exc.args[0]}",
                hint="is the broker up? `hyperscale local status`",
            ) from None
        return {
            name: TopicState(name, len(topic.partitions))
            for name, topic in metadata.topics.items()
            if not name.startswith("__")
        }

    def create(self, specs: list[TopicSpec]) -> None:
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
                error = exc.args[0]
                if getattr(error, "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
                    continue  # created concurrently: what we wanted
                raise ExternalSystemError(f"creating topic {name} failed: {error}") from None

    # -- consumer groups and offsets (`hyperscale kafka lag`) -----------------------------------
    # Each call is one batched request (or, for committed offsets, one request per group sent
    # all at once), so the cost stays a few round trips however many partitions there are.

    def _unreachable(self, exc: BaseException, what: str = "") -> ExternalSystemError:
        """The broker did not answer (transport, timeout), or refused what we asked."""
        reason: Any = exc.args[0] if exc.args else exc  # KafkaError has .str() and .name()
        text = reason.str() if callable(getattr(reason, "str", None)) else str(reason)
        name = reason.name() if callable(getattr(reason, "name", None)) else "_TIMED_OUT"
        if not what or name in {"_TRANSPORT", "_TIMED_OUT", "_ALL_BROKERS_DOWN", "_RESOLVE"}:
            return ExternalSystemError(
                f"Kafka at {self.env.kafka.bootstrap} is unreachable: {text}",
                hint="is the broker up? `hyperscale local status`, or check --bootstrap",
            )
        return ExternalSystemError(
            f"reading {what} from Kafka at {self.env.kafka.bootstrap}: {text}"
        )

    def consumer_groups(self) -> list[tuple[str, str]]:
        """Every consumer group on the cluster as (group id, state)."""
        from confluent_kafka import KafkaException

        try:
            listing = self.admin.list_consumer_groups(request_timeout=self.timeout).result(
                timeout=self.timeout + 5
            )
        except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
            raise self._unreachable(exc) from None
        if listing.errors and not listing.valid:
            raise self._unreachable(KafkaException(listing.errors[0]))
        if listing.errors:  # some broker did not answer: a partial list would hide groups
            raise ExternalSystemError(
                f"listing consumer groups on {self.env.kafka.bootstrap} failed:"
                f" {listing.errors[0]}",
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
                raise self._unreachable(exc, f"group {group_id}") from None
            assigned = {
                (tp.topic, tp.partition): member.client_id
                for member in desc.members
                for tp in (member.assignment.topic_partitions if member.assignment else [])
            }
            described[group_id] = GroupDescription(
                group_id, _state_name(desc.state), len(desc.members), assigned
            )
        return described

    def committed_offsets(self, group_ids: list[str]) -> dict[str, dict[tuple[str, int], int]]:
        """Committed offsets per group; the requests go out together, then all are awaited."""
        from confluent_kafka import ConsumerGroupTopicPartitions

        futures = {
            group_id: self.admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group_id)], request_timeout=self.timeout
            )[group_id]
            for group_id in group_ids
        }
        committed: dict[str, dict[tuple[str, int], int]] = {}
        for group_id, future in futures.items():
            try:
                result = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                raise self._unreachable(exc, f"the offsets of group {group_id}") from None
            committed[group_id] = {
                (tp.topic, tp.partition): tp.offset for tp in result.topic_partitions or []
            }
        return committed

    def watermarks(
        self, partitions: list[tuple[str, int]], *, skip_unknown: bool = False
    ) -> dict[tuple[str, int], Watermarks]:
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
        self, partitions: list[tuple[str, int]]
    ) -> dict[tuple[str, int], TimedOffset]:
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

    def _offsets(
        self, futures: dict[Any, Any], *, skip_unknown: bool = False
    ) -> dict[tuple[str, int], tuple[int, int]]:
        found: dict[tuple[str, int], tuple[int, int]] = {}
        for tp, future in futures.items():
            try:
                info = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                if skip_unknown and _error_name(exc) == "UNKNOWN_TOPIC_OR_PART":
                    continue
                raise self._unreachable(exc, f"the offsets of {tp.topic}[{tp.partition}]") from None
            found[(tp.topic, tp.partition)] = (info.offset, info.timestamp)
        return found

    def first_records(
        self,
        app: AppContext,
        wanted: set[tuple[str, int, int]],
        timeout: float,
        lanes: int = 2,
    ) -> dict[tuple[str, int, int], TimedOffset | None]:
        """For each (topic, partition, offset): the first readable record at or after the offset
        (offset and timestamp), or None when there is none before the log end. See
        hyperscale.kafka.record_probe."""
        from hyperscale.kafka.record_probe import first_records

        return first_records(self.env, app, wanted, timeout, lanes)


def ensure_topics(env: Environment, app: AppContext, specs: list[TopicSpec]) -> list[str]:
    """Reconcile ``specs`` like `kafka topics apply` (create, add partitions, set configs; no
    prune); return the names of the topics created. Idempotent."""
    from hyperscale.kafka.topics import TopicsTemplate
    from hyperscale.kafka.topics_core import TopicsRequest, reconcile_topics
    from hyperscale.kafka.topics_plan import TopicAction

    result = reconcile_topics(env, app, TopicsRequest(), template=TopicsTemplate(topics=specs))
    return result.names(TopicAction.CREATE)


def _error_name(exc: BaseException) -> str:
    """The KafkaError code name carried by a KafkaException (``""`` for anything else)."""
    error = exc.args[0] if exc.args else None
    name = getattr(error, "name", None)
    return str(name()) if callable(name) else ""


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


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    members: int
    #: (topic, partition) -> the client id of the member it is assigned to.
    assigned: dict[tuple[str, int], str]


@dataclass(frozen=True)
class Watermarks:
    log_start: int
    log_end: int


@dataclass(frozen=True)
class TimedOffset:
    offset: int
    timestamp_ms: int
