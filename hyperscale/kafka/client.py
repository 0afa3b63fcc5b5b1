"""The adapter to a Kafka cluster's admin API (confluent_kafka), with the environment's security."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.config.secrets import resolve_secret
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

    def watermarks(self, partitions: list[tuple[str, int]]) -> dict[tuple[str, int], Watermarks]:
        """Log-start and log-end (high watermark) offsets: two batched requests, in flight
        together."""
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
        starts = self._offsets(earliest)
        ends = self._offsets(latest)
        return {tp: Watermarks(starts[tp][0], ends[tp][0]) for tp in partitions}

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

    def _offsets(self, futures: dict[Any, Any]) -> dict[tuple[str, int], tuple[int, int]]:
        found: dict[tuple[str, int], tuple[int, int]] = {}
        for tp, future in futures.items():
            try:
                info = future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                raise self._unreachable(exc, f"the offsets of {tp.topic}[{tp.partition}]") from None
            found[(tp.topic, tp.partition)] = (info.offset, info.timestamp)
        return found

    def first_records(
        self,
        app: AppContext,
        wanted: set[tuple[str, int, int]],
        timeout: float,
        lanes: int = 4,
    ) -> dict[tuple[str, int, int], TimedOffset | None]:
        """For each (topic, partition, offset): the first readable record at or after the offset
        (offset and timestamp), or None when there is none before the log end.

        Assigned consumers (never joining a group, never committing) read every partition at
        once; a partition wanted at several offsets (one per group) is re-seeked after each
        record, its offsets dealt round-robin over ``lanes`` consumers that run in parallel.
        """
        from concurrent.futures import ThreadPoolExecutor

        per_lane: list[dict[tuple[str, int], list[int]]] = [{} for _ in range(max(1, lanes))]
        seen: dict[tuple[str, int], int] = {}
        for topic, partition, offset in sorted(wanted):
            index = seen.get((topic, partition), 0)
            seen[(topic, partition)] = index + 1
            per_lane[index % len(per_lane)].setdefault((topic, partition), []).append(offset)
        busy = [queues for queues in per_lane if queues]
        found: dict[tuple[str, int, int], TimedOffset | None] = {}
        if not busy:
            return found
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(max_workers=len(busy)) as pool:
            for lane in pool.map(lambda q: self._read_lane(app, q, deadline), busy):
                found.update(lane)
        return found

    def _read_lane(
        self, app: AppContext, queues: dict[tuple[str, int], list[int]], deadline: float
    ) -> dict[tuple[str, int, int], TimedOffset | None]:
        from confluent_kafka import OFFSET_END, Consumer, TopicPartition

        found: dict[tuple[str, int, int], TimedOffset | None] = {}
        consumer = Consumer(
            {
                **client_config(self.env, app),
                "group.id": "hyperscale-lag-probe",  # required by the client; never joined
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "enable.partition.eof": True,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_uncommitted",  # open transactions' records have ages too
                "fetch.wait.max.ms": 50,
            }
        )
        try:
            consumer.assign([TopicPartition(t, p, q[0]) for (t, p), q in queues.items()])
            while queues and time.monotonic() < deadline:
                message = consumer.poll(min(0.5, max(0.0, deadline - time.monotonic())))
                if message is None:
                    continue
                key = (message.topic() or "", message.partition() or 0)
                pending = queues.get(key)
                if not pending or not self._take(message, pending, key, found):
                    continue
                if pending:
                    consumer.seek(TopicPartition(*key, pending[0]))
                else:
                    del queues[key]
                    consumer.incremental_unassign([TopicPartition(*key, OFFSET_END)])
        finally:
            consumer.close()
        return found

    def _take(
        self,
        message: Any,
        pending: list[int],
        key: tuple[str, int],
        found: dict[tuple[str, int, int], TimedOffset | None],
    ) -> bool:
        """Settle the partition's next wanted offset with ``message``; False if it does not."""
        from confluent_kafka import KafkaError, KafkaException

        error = message.error()
        if error is not None and error.code() != KafkaError._PARTITION_EOF:
            if error.fatal():
                raise self._unreachable(KafkaException(error))
            return False
        kind, timestamp_ms = message.timestamp()
        offset = message.offset() or 0
        if error is not None or kind == 0 or timestamp_ms < 0:  # end of log, or no timestamp
            found[(*key, pending.pop(0))] = None
            return True
        if offset < pending[0]:
            return False  # fetched before the last seek
        found[(*key, pending.pop(0))] = TimedOffset(offset, timestamp_ms)
        return True


def ensure_topics(env: Environment, app: AppContext, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return their names (idempotent)."""
    admin = KafkaAdmin(env, app)
    existing = admin.topics()
    missing = [s for s in specs if s.name not in existing]
    admin.create(missing)
    return [s.name for s in missing]


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
