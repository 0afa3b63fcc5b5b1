"""Builders the Kafka tests share: topics, records with known timestamps, committed offsets."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any


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


def delete_topics_containing(bootstrap: str, part: str, timeout: float = 30.0) -> None:
    """Delete every topic whose name contains ``part``, and wait until the broker's metadata
    no longer lists them."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [t for t in admin.list_topics(timeout=10).topics if part in t]
    if not names:
        return
    for future in admin.delete_topics(names, operation_timeout=timeout).values():
        future.result(timeout=timeout)
    deadline = time.monotonic() + timeout
    while any(part in t for t in admin.list_topics(timeout=10).topics):
        assert time.monotonic() < deadline, f"topics with {part} listed {timeout}s after deletion"
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


def java_partition(key: bytes, partitions: int) -> int:
    """The partition Kafka's Java producer picks for a keyed record (murmur2 of the key, the
    sign bit cleared, modulo the partition count). Checked against Kafka's ConsoleProducer
    when written; librdkafka's ``murmur2_random`` must agree with it."""
    mask, m = 0xFFFFFFFF, 0x5BD1E995
    h = (0x9747B28C ^ len(key)) & mask
    whole = len(key) - len(key) % 4
    for i in range(0, whole, 4):
        k = (int.from_bytes(key[i : i + 4], "little") * m) & mask
        k = ((k ^ (k >> 24)) * m) & mask
        h = ((h * m) & mask) ^ k
    tail = key[whole:]
    if tail:
        for shift, byte in reversed(list(enumerate(tail))):
            h ^= byte << (8 * shift)
        h = (h * m) & mask
    h = ((h ^ (h >> 13)) * m) & mask
    h ^= h >> 15
    return (h & 0x7FFFFFFF) % partitions


#: Partition -> (last stable offset, high watermark) of the partitions where they differ.
OpenRanges = dict[int, tuple[int, int]]


class OpenTransactions:
    """Where a transaction is open on a topic, as the broker says: the partitions whose last
    stable offset (how far read_committed readers may read) is below the high watermark, with
    the records between them written by a transaction that has not ended."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka.admin import AdminClient

        self.topic = topic
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        metadata = self.admin.list_topics(topic, timeout=10)
        self.partitions = sorted(metadata.topics[topic].partitions)

    def ranges(self) -> OpenRanges:
        from confluent_kafka import IsolationLevel

        stable = self._ends(IsolationLevel.READ_COMMITTED)
        high = self._ends(IsolationLevel.READ_UNCOMMITTED)
        return {p: (stable[p], high[p]) for p in self.partitions if stable[p] < high[p]}

    def ended(self, ranges: OpenRanges) -> bool:
        """Whether the transactions that were open over ``ranges`` have ended since (committed
        or aborted: read_committed readers may read past them)."""
        from confluent_kafka import IsolationLevel

        stable = self._ends(IsolationLevel.READ_COMMITTED)
        return all(stable[p] >= end for p, (_, end) in ranges.items())

    def _ends(self, level: Any) -> dict[int, int]:
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        futures = self.admin.list_offsets(
            {TopicPartition(self.topic, p): OffsetSpec.latest() for p in self.partitions},
            isolation_level=level,
            request_timeout=10,
        )
        return {tp.partition: future.result(timeout=15).offset for tp, future in futures.items()}


def committed_in(bootstrap: str, topic: str, ranges: OpenRanges) -> list[tuple[int, int]]:
    """The (partition, offset) of records in ``ranges`` that a read_committed reader sees:
    none when the transaction that wrote them was aborted. Call it once that transaction has
    ended (``OpenTransactions.ended``)."""
    from confluent_kafka import Consumer, KafkaError, TopicPartition

    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tests-committed-in",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "isolation.level": "read_committed",
        }
    )
    visible: list[tuple[int, int]] = []
    try:
        consumer.assign([TopicPartition(topic, p, start) for p, (start, _) in ranges.items()])
        pending = set(ranges)
        deadline = time.monotonic() + 30
        while pending:
            assert time.monotonic() < deadline, f"{topic} {sorted(pending)} not read in 30 s"
            for message in consumer.consume(num_messages=500, timeout=1.0):
                partition = message.partition() or 0
                if partition not in pending:
                    continue
                error = message.error()
                offset = message.offset() or 0
                if error is not None:
                    assert error.code() == KafkaError._PARTITION_EOF, error
                    pending.discard(partition)
                elif offset >= ranges[partition][1]:
                    pending.discard(partition)  # past the range: a later transaction's
                else:
                    visible.append((partition, offset))
    finally:
        consumer.close()
    return visible


def high_watermarks(bootstrap: str, topic: str) -> dict[int, int]:
    """Partition -> log end offset: records and transaction markers alike. Read uncommitted:
    librdkafka's default (read_committed) answers the last stable offset instead, which stays
    at an open transaction's first record until the coordinator has written its marker."""
    from confluent_kafka import Consumer, TopicPartition
    from confluent_kafka.admin import AdminClient

    metadata = AdminClient({"bootstrap.servers": bootstrap}).list_topics(topic, timeout=10)
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "tests-watermarks",
            "isolation.level": "read_uncommitted",
        }
    )
    try:
        return {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in metadata.topics[topic].partitions
        }
    finally:
        consumer.close()
