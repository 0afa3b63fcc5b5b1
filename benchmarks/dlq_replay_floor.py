"""The least an exactly-once replay in Python does, timed: the floor under `dlq replay`.

Run by benchmarks/dlq_replay.py (`--floor`) as its own process, like the real command:
    python benchmarks/dlq_replay_floor.py BOOTSTRAP SOURCE TARGET RECORDS

It reads SOURCE from the beginning with confluent_kafka (batched `consume`, the same prefetch
bound as the replay) and writes every record to TARGET, same partition, with its key, value,
headers and timestamp, in transactions of 10,000 records that also commit the read offsets.
No routing, no loop guard, no header rewrite, no throttle, no progress, no report: whatever
`dlq replay` adds sits on top of this. If this alone is slower than half the kcat pipeline,
no replay with the same client library can reach the goal of 0.5x.
"""

from __future__ import annotations

import sys
import uuid
from typing import Any

BATCH = 10_000


def main() -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition

    bootstrap, source, target, records = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    group = f"bench-floor-{uuid.uuid4().hex[:8]}"
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "queued.max.messages.kbytes": 16384,
        }
    )
    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "transactional.id": group,
            "linger.ms": 5,
            "batch.size": 1_000_000,
        }
    )
    producer.init_transactions(30)
    partitions = consumer.list_topics(source, timeout=10).topics[source].partitions
    consumer.assign([TopicPartition(source, p, 0) for p in partitions])
    done = in_batch = 0
    positions: dict[int, int] = {}
    producer.begin_transaction()
    while done < records:
        for message in consumer.consume(1000, 1.0):
            if message.error() is not None:
                continue
            producer.produce(
                target,
                message.value(),
                message.key(),
                partition=message.partition(),
                timestamp=message.timestamp()[1],
                headers=message.headers(),
            )
            positions[message.partition()] = message.offset() + 1
            done += 1
            in_batch += 1
            if in_batch >= BATCH:
                _commit(producer, consumer, source, positions)
                producer.begin_transaction()
                in_batch = 0
    _commit(producer, consumer, source, positions)
    consumer.close()


def _commit(producer: Any, consumer: Any, source: str, positions: dict[int, int]) -> None:
    from confluent_kafka import TopicPartition

    offsets = [TopicPartition(source, p, o) for p, o in positions.items()]
    producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata(), 30)
    producer.commit_transaction(60)


if __name__ == "__main__":
    main()
