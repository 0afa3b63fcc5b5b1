"""Builders the Kafka tests share: topics, records with known timestamps, committed offsets."""

from __future__ import annotations

from collections.abc import Sequence


def create_topic(bootstrap: str, name: str, partitions: int) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(name, partitions, 1)])[name].result(timeout=30)
    return name


def produce(bootstrap: str, topic: str, partition: int, timestamps_ms: Sequence[int]) -> None:
    """One record per timestamp, in order, to one partition (offsets 0, 1, 2... when new)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for i, ts in enumerate(timestamps_ms):
        producer.produce(topic, value=b"v%d" % i, partition=partition, timestamp=ts)
    assert producer.flush(30) == 0


def commit(bootstrap: str, group: str, offsets: dict[tuple[str, int], int]) -> None:
    """Commit offsets for ``group`` the way a consumer does, without joining it."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        consumer.commit(
            offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
        )
    finally:
        consumer.close()
