"""What `hyperscale kafka health` reads from a cluster: its live brokers and active controller
(DescribeCluster), every partition's leader, replicas and in-sync replicas (Metadata), each
topic's effective ``min.insync.replicas`` (DescribeConfigs), and whether each broker answers
a request of its own."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from hyperscale.clients.kafka.admin import KafkaAdmin, cluster_summary
from hyperscale.clients.kafka.errors import KafkaCallError, unreachable_error


@dataclass(frozen=True)
class PartitionState:
    topic: str
    partition: int
    #: -1: no leader, the partition is offline.
    leader: int
    replicas: list[int]
    isr: list[int]
    min_isr: int


@dataclass(frozen=True)
class LiveBroker:
    id: int
    host: str
    port: int

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ClusterState:
    cluster_id: str
    #: None: the cluster named no controller.
    controller: int | None
    brokers: list[LiveBroker]
    partitions: list[PartitionState] = field(default_factory=list)


def cluster_state(admin: KafkaAdmin, *, internal: bool = True) -> ClusterState:
    """One DescribeCluster, one Metadata and one DescribeConfigs request."""
    from confluent_kafka.admin._config import ConfigResource

    timeout = admin.timeout
    try:
        cluster = admin.admin.describe_cluster(request_timeout=timeout).result(timeout=timeout + 1)
        metadata = admin.admin.list_topics(timeout=timeout)
    except Exception as exc:  # noqa: BLE001 - KafkaException or a future's timeout
        raise unreachable_error(admin.bootstrap, exc) from None
    topics = {
        name: topic
        for name, topic in metadata.topics.items()
        if topic.error is None and (internal or not name.startswith("__"))
    }
    min_isr: dict[str, int] = {}
    if topics:
        futures = admin.admin.describe_configs(
            [ConfigResource("topic", name) for name in sorted(topics)], request_timeout=timeout
        )
        for resource, future in futures.items():
            try:
                entries = future.result(timeout=timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                raise unreachable_error(
                    admin.bootstrap, exc, f"the configs of topic {resource.name}"
                ) from None
            entry = entries.get("min.insync.replicas")
            min_isr[resource.name] = int(entry.value) if entry and entry.value else 1
    partitions = [
        PartitionState(
            name,
            int(pid),
            int(p.leader),
            [int(r) for r in p.replicas],
            [int(r) for r in p.isrs],
            min_isr.get(name, 1),
        )
        for name, topic in sorted(topics.items())
        for pid, p in sorted(topic.partitions.items())
    ]
    controller = cluster.controller
    return ClusterState(
        str(cluster.cluster_id),
        int(controller.id) if controller is not None else None,
        sorted(
            (LiveBroker(int(n.id), str(n.host), int(n.port)) for n in cluster.nodes),
            key=lambda b: b.id,
        ),
        partitions,
    )


def brokers_answering(addresses: list[str], timeout: float = 3.0) -> dict[str, str | None]:
    """Each address asked on its own (DescribeCluster to that broker alone): None when it
    answered, else what went wrong. Asked in parallel, so a dead broker costs one timeout."""

    def ask(address: str) -> str | None:
        try:
            cluster_summary(address, timeout=timeout)
        except KafkaCallError as exc:
            return exc.failure.text or "no answer"
        return None

    if not addresses:
        return {}
    with ThreadPoolExecutor(max_workers=len(addresses)) as pool:
        return dict(zip(addresses, pool.map(ask, addresses), strict=True))
