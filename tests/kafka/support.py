"""Builders the Kafka tests share: topics, records with known timestamps, committed offsets."""

from __future__ import annotations

import time
from collections.abc import Sequence


def create_topic(
    bootstrap: str, name: str, partitions: int, config: dict[str, str] | None = None
) -> str:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    topic = NewTopic(name, partitions, 1, config=config or {})
    admin.create_topics([topic])[name].result(timeout=30)
    # Created is not yet usable: the broker's metadata may lag the controller for a moment,
    # and a test reading the topic then would see "unknown topic" instead of what it tests.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = admin.list_topics(name, timeout=10).topics.get(name)
        ready = found is not None and found.error is None and len(found.partitions) == partitions
        if ready and all(p.leader >= 0 and p.error is None for p in found.partitions.values()):
            return name
        time.sleep(0.05)
    raise AssertionError(f"topic {name} has no leader for every partition after 15 s")


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


def delete_topic(bootstrap: str, name: str, timeout: float = 30.0) -> None:
    """Delete ``name`` and wait until the broker's metadata no longer lists it."""
    import time

    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([name])[name].result(timeout=timeout)
    deadline = time.monotonic() + timeout
    while name in admin.list_topics(timeout=10).topics:
        assert time.monotonic() < deadline, f"{name} still listed {timeout}s after its deletion"
        time.sleep(0.1)


#: (key, value, headers, timestamp ms, partition): a record as the DLQ tests write and read it.
Record = tuple[bytes | None, bytes | None, list[tuple[str, bytes]], int, int]


def produce_records(bootstrap: str, topic: str, records: Sequence[Record]) -> None:
    """Each record to its own partition with its own timestamp, in order."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i, (key, value, headers, timestamp, partition) in enumerate(records):
        producer.produce(
            topic, key=key, value=value, headers=headers, timestamp=timestamp, partition=partition
        )
        if i % 5000 == 0:
            producer.poll(0)
    assert producer.flush(30) == 0


def read_all(bootstrap: str, topic: str, *, read_committed: bool = True) -> list[Record]:
    """Every record of ``topic`` as a ``read_committed`` (or uncommitted) reader sees it now;
    joins no group."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    partitions = list(metadata.topics[topic].partitions)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tests-read-all",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed" if read_committed else "read_uncommitted",
        }
    )
    records: list[Record] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        open_partitions = set(partitions)
        while open_partitions:
            for message in consumer.consume(num_messages=1000, timeout=1.0):
                error = message.error()
                if error is not None:
                    assert error.code() == KafkaError._PARTITION_EOF, error
                    open_partitions.discard(message.partition())
                    continue
                records.append(
                    (
                        message.key(),
                        message.value(),
                        list(message.headers() or []),
                        message.timestamp()[1],
                        message.partition() or 0,
                    )
                )
    finally:
        consumer.close()
    return records


def committed_total(bootstrap: str, group: str, topic: str, partitions: int) -> int:
    """The sum of ``group``'s committed offsets on ``topic`` (0 where it has none): the stable
    ones. A read_committed client would wait for offsets pending in an open transaction, and a
    transaction left open by a killed replay stays open until the next run fences it."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": group, "isolation.level": "read_uncommitted"}
    )
    try:
        offsets = consumer.committed(
            [TopicPartition(topic, p) for p in range(partitions)], timeout=10
        )
    finally:
        consumer.close()
    return sum(max(0, tp.offset) for tp in offsets)
