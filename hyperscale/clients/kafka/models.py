"""What the Kafka adapter hands back and takes: plain values, no confluent_kafka types."""

from __future__ import annotations

from dataclasses import dataclass, field

#: (topic, partition)
TopicPartitionKey = tuple[str, int]
Headers = list[tuple[str, bytes | None]]


@dataclass(frozen=True)
class TopicState:
    name: str
    partitions: int


@dataclass(frozen=True)
class NewTopicSpec:
    """A topic to create, as the admin API takes it."""

    name: str
    partitions: int
    replication_factor: int
    config: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LiveTopic:
    name: str
    partitions: int
    #: The replica count of partition 0 (Kafka keeps them equal unless reassigned by hand).
    replication_factor: int


@dataclass(frozen=True)
class LiveConfigs:
    #: Set on the topic (DYNAMIC_TOPIC_CONFIG): what the template is compared with.
    explicit: dict[str, str]
    #: Every value in force, defaults included: shown beside a change, never compared.
    effective: dict[str, str]


@dataclass(frozen=True)
class GroupDescription:
    group_id: str
    state: str
    members: int
    #: (topic, partition) -> the client id of the member it is assigned to.
    assigned: dict[TopicPartitionKey, str]


@dataclass(frozen=True)
class Watermarks:
    log_start: int
    log_end: int


@dataclass(frozen=True)
class TimedOffset:
    offset: int
    timestamp_ms: int


@dataclass(frozen=True)
class ClusterSummary:
    cluster_id: str
    brokers: int


@dataclass(slots=True)
class Record:
    """A record as a reader returns it. Not frozen: a frozen dataclass costs four times as much
    to build, and a replay builds one per record in its hot loop."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers
    #: None when the record carries no timestamp.
    timestamp_ms: int | None


@dataclass(frozen=True, slots=True)
class PartitionEnd:
    """The reader reached the end of a partition's log (what it may read of it now)."""

    topic: str
    partition: int


@dataclass(frozen=True, order=True)
class AclRule:
    """One ALLOW ACL, in Kafka's own words: ``User:hyperscale-api`` may WRITE TOPIC orders
    (LITERAL) from any host. Sorted by principal, then resource, then operation."""

    principal: str
    resource_type: str  # TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID
    resource_name: str
    operation: str  # READ, WRITE, DESCRIBE, ALL, ...
    pattern_type: str = "LITERAL"  # LITERAL or PREFIXED
    permission: str = "ALLOW"
    host: str = "*"

    def describe(self) -> str:
        pattern = "" if self.pattern_type == "LITERAL" else f" ({self.pattern_type.lower()})"
        return (
            f"{self.principal} {self.permission} {self.operation} on"
            f" {self.resource_type} {self.resource_name}{pattern}"
        )

    def to_data(self) -> dict[str, str]:
        return {
            "principal": self.principal,
            "permission": self.permission,
            "operation": self.operation,
            "resource_type": self.resource_type,
            "resource_name": self.resource_name,
            "pattern_type": self.pattern_type,
            "host": self.host,
        }
