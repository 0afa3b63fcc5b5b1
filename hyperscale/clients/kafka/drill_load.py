"""The load of a broker-loss drill: keyed records produced with ``acks=all`` (idempotent) at
a bounded rate on a thread of their own, each acknowledgement remembered with its time; and
every key read back from the start of the topic."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from hyperscale.clients.kafka.config import client_config
from hyperscale.clients.kafka.errors import failure_of, unreachable_error
from hyperscale.config.models import Environment
from hyperscale.context import AppContext

#: The first delivery errors kept for the report (the rest are counted).
_ERRORS_KEPT = 5


@dataclass
class LoadTally:
    #: key -> monotonic time its acknowledgement arrived
    acked: dict[str, float] = field(default_factory=dict)
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    sent: int = 0


class KeyedLoad:
    """``count`` records, keys ``<prefix>-0000001``..., at most ``rate`` a second."""

    def __init__(
        self, env: Environment, app: AppContext, topic: str, count: int, rate: float
    ) -> None:
        self.config = {
            **client_config(env, app),
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 5,
            # Long enough to outlive a leader election; a record still unacknowledged after
            # it counts as failed, never as lost.
            "delivery.timeout.ms": 120_000,
        }
        self.topic = topic
        self.count = count
        self.rate = rate
        self.prefix = uuid.uuid4().hex[:8]
        self.tally = LoadTally()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="drill-load", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def acked_count(self) -> int:
        with self._lock:
            return len(self.tally.acked)

    def acked_since(self, moment: float) -> int:
        """Acknowledgements that arrived at or after ``moment`` (monotonic time)."""
        with self._lock:
            return sum(1 for t in self.tally.acked.values() if t >= moment)

    def running(self) -> bool:
        return self._thread.is_alive()

    def _delivered(self, error: object, message: object) -> None:
        with self._lock:
            if error is None:
                key = message.key()  # type: ignore[attr-defined]
                self.tally.acked[key.decode()] = time.monotonic()
            else:
                self.tally.failed += 1
                if len(self.tally.errors) < _ERRORS_KEPT:
                    self.tally.errors.append(failure_of(error).text)

    def _run(self) -> None:
        from confluent_kafka import Producer

        producer = Producer(self.config)
        started = time.monotonic()
        for index in range(self.count):
            if self._stop.is_set():
                break
            key = f"{self.prefix}-{index:07d}"
            while True:
                try:
                    producer.produce(
                        self.topic, key=key, value=key.encode(), on_delivery=self._delivered
                    )
                    break
                except BufferError:
                    producer.poll(0.05)
            self.tally.sent += 1
            producer.poll(0)
            ahead = started + (index + 1) / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        producer.flush(150)


def read_keys(env: Environment, app: AppContext, topic: str, timeout: float) -> set[str]:
    """Every key in ``topic``, from the start of each partition to its end as of now."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

    consumer = Consumer(
        {
            **client_config(env, app),
            "group.id": f"hyperscale-drill-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    keys: set[str] = set()
    try:
        metadata = consumer.list_topics(topic, timeout=10)
        partitions = sorted(metadata.topics[topic].partitions)
        ends = {
            p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in partitions
        }
        pending = {p for p, end in ends.items() if end > 0}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(1000, 0.5):
                if message.error():
                    continue
                key = message.key()
                if key is not None:
                    keys.add(key.decode())
                offset, partition = message.offset(), message.partition()
                if offset is not None and partition is not None and offset + 1 >= ends[partition]:
                    pending.discard(message.partition())
    except KafkaException as exc:
        raise unreachable_error(env.kafka.bootstrap, exc, f"topic {topic}") from None
    finally:
        consumer.close()
    return keys
