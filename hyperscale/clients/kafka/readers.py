"""The one way this project reads partitions: an assigned consumer. It is given its partitions
and offsets (it never subscribes, so it never joins its group) and it never commits on its own
(auto commit and offset store off), so reading moves no group's offsets. Only an explicit
:meth:`AssignedReader.commit` writes the group's offsets, for a replay's checkpoint.

Messages come back as :class:`Record` or :class:`PartitionEnd` (end of the log, reported because
``enable.partition.eof`` is on). A message carrying a non-fatal error is left out: librdkafka
retries on its own. A fatal one ends the read as an ExternalSystemError naming the partition.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any

from hyperscale.clients.kafka.config import client_config
from hyperscale.clients.kafka.errors import RETRY_PAUSE_S, call_error, failure_of
from hyperscale.clients.kafka.models import PartitionEnd, Record, TopicPartitionKey
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError

Item = Record | PartitionEnd


class AssignedReader:
    def __init__(
        self,
        env: Environment,
        app: AppContext,
        group: str,
        *,
        read_committed: bool = False,
        fetch_wait_ms: int | None = None,
        prefetch_kbytes: int | None = None,
    ) -> None:
        """``group`` is required by the client and names the offsets ``committed`` and
        ``commit`` use; it is never joined. ``read_committed`` hides records of open and
        aborted transactions. ``prefetch_kbytes`` bounds the records queued ahead of ``fetch``,
        so memory stays flat however big the partitions are."""
        from confluent_kafka import Consumer

        config: dict[str, Any] = {
            **client_config(env, app),
            "group.id": group,
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed" if read_committed else "read_uncommitted",
        }
        if fetch_wait_ms is not None:
            config["fetch.wait.max.ms"] = fetch_wait_ms
        if prefetch_kbytes is not None:
            config["queued.max.messages.kbytes"] = prefetch_kbytes
        self.bootstrap = env.kafka.bootstrap
        self.group = group
        self.consumer = Consumer(config)

    def __enter__(self) -> AssignedReader:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.consumer.close()

    def assign(self, starts: Mapping[TopicPartitionKey, int]) -> None:
        """Read these partitions, each from its offset."""
        from confluent_kafka import TopicPartition

        self.consumer.assign([TopicPartition(t, p, o) for (t, p), o in starts.items()])

    def release(self, tp: TopicPartitionKey) -> None:
        """Stop reading one partition (the others go on)."""
        from confluent_kafka import OFFSET_END, TopicPartition

        self.consumer.incremental_unassign([TopicPartition(*tp, OFFSET_END)])

    def seek(self, tp: TopicPartitionKey, offset: int) -> None:
        from confluent_kafka import TopicPartition

        self.consumer.seek(TopicPartition(*tp, offset))

    def poll(self, timeout: float) -> Item | None:
        """The next record or end of a partition; None when there is none within ``timeout``."""
        from confluent_kafka import KafkaException

        try:
            message = self.consumer.poll(timeout)
        except KafkaException as exc:  # fatal in the client
            raise call_error(exc) from None
        return None if message is None else next(self._items([message]), None)

    def fetch(self, limit: int, timeout: float) -> Iterator[Item]:
        """Up to ``limit`` records and ends of partitions, in the order they came. Each is
        made as the caller reaches it, so a record's copy is freed before the next is made:
        made all at once, a batch's copies (5000 records' headers) cost a replay a fifth more
        CPU, in allocation and cache misses."""
        from confluent_kafka import KafkaException

        try:
            messages = self.consumer.consume(num_messages=limit, timeout=timeout)
        except KafkaException as exc:  # fatal in the client
            raise call_error(exc) from None
        return self._items(messages)

    def committed(
        self, partitions: Iterable[TopicPartitionKey], timeout: float
    ) -> dict[TopicPartitionKey, int | None]:
        """The group's committed offset of each partition; None where it has none. Asked
        again while the group's coordinator is not ready (a new cluster makes its offsets
        topic on the first group request), until ``timeout``."""
        from confluent_kafka import KafkaException, TopicPartition

        wanted = [TopicPartition(t, p) for t, p in partitions]
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self.consumer.committed(wanted, timeout=timeout)
                break
            except KafkaException as exc:
                if not failure_of(exc).passing or time.monotonic() >= deadline:
                    raise call_error(exc) from None
                time.sleep(RETRY_PAUSE_S)
        return {(tp.topic, tp.partition): (tp.offset if tp.offset >= 0 else None) for tp in found}

    def commit(self, offsets: Mapping[TopicPartitionKey, int]) -> None:
        """Write the group's offsets (the next offset to read, per partition), synchronously."""
        from confluent_kafka import KafkaException, TopicPartition

        try:
            self.consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()],
                asynchronous=False,
            )
        except KafkaException as exc:
            raise call_error(exc) from None

    def group_metadata(self) -> Any:
        """The group's identity, as a transaction takes it (KafkaProducer.send_offsets)."""
        return self.consumer.consumer_group_metadata()

    def _items(self, messages: list[Any]) -> Iterator[Item]:
        """The hot loop of a replay and an inspect: the work per message is written out here,
        not delegated, since a call per record costs as much as the rest of it."""
        from confluent_kafka import KafkaError

        for message in messages:
            error = message.error()
            if error is None:
                kind, stamp = message.timestamp()
                yield Record(
                    message.topic(),
                    message.partition(),
                    message.offset(),
                    message.key(),
                    message.value(),
                    message.headers() or [],
                    stamp if kind != 0 and stamp >= 0 else None,
                )
            elif error.code() == KafkaError._PARTITION_EOF:
                yield PartitionEnd(message.topic() or "", message.partition() or 0)
            elif error.fatal():
                raise self._fatal(message, error)

    def _fatal(self, message: Any, error: Any) -> ExternalSystemError:
        where = f"{message.topic()}[{message.partition()}]"
        return ExternalSystemError(
            f"reading {where} from Kafka at {self.bootstrap}: {failure_of(error).text}"
        )
