"""Read the record at given offsets (its offset and timestamp): the time lag's input.

Assigned consumers (never joining a group, never committing) read every wanted partition at
once. A partition is wanted at one offset per lagging group; its offsets are read in order:
when the next one is near (``READ_THROUGH`` records or fewer ahead) the consumer reads on to
it, which costs nothing but the records in between, otherwise it seeks, which costs a round
trip. Partitions are shared among ``lanes`` consumers that run in parallel.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hyperscale.errors import ExternalSystemError

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.kafka.client import TimedOffset

#: Read on instead of seeking when the next wanted offset is at most this many records ahead:
#: at 1 KiB a record that is 64 KiB, less than a seek's round trip costs on any network.
READ_THROUGH = 64

Key = tuple[str, int]
Found = dict[tuple[str, int, int], "TimedOffset | None"]


def first_records(
    env: Environment,
    app: AppContext,
    wanted: Iterable[tuple[str, int, int]],
    timeout: float,
    lanes: int = 2,
) -> Found:
    """For each (topic, partition, offset): the first readable record at or after the offset
    (offset and timestamp), or None when there is none before the log end."""
    from concurrent.futures import ThreadPoolExecutor

    queues: dict[Key, list[int]] = {}
    for topic, partition, offset in sorted(set(wanted)):
        queues.setdefault((topic, partition), []).append(offset)
    per_lane: list[dict[Key, list[int]]] = [{} for _ in range(max(1, lanes))]
    for i, (key, offsets) in enumerate(sorted(queues.items(), key=lambda kv: -len(kv[1]))):
        per_lane[i % len(per_lane)][key] = offsets  # the busiest partitions spread first
    busy = [lane for lane in per_lane if lane]
    found: Found = {}
    if not busy:
        return found
    deadline = time.monotonic() + timeout
    with ThreadPoolExecutor(max_workers=len(busy)) as pool:
        for lane in pool.map(lambda q: _read_lane(env, app, q, deadline), busy):
            found.update(lane)
    return found


def _read_lane(
    env: Environment, app: AppContext, queues: dict[Key, list[int]], deadline: float
) -> Found:
    from confluent_kafka import OFFSET_END, Consumer, TopicPartition

    from hyperscale.kafka.client import client_config

    found: Found = {}
    consumer = Consumer(
        {
            **client_config(env, app),
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
            if not pending:
                continue
            position = _settle(env, message, pending, key, found)
            if not pending:
                del queues[key]
                consumer.incremental_unassign([TopicPartition(*key, OFFSET_END)])
            elif position is not None and pending[0] - position > READ_THROUGH:
                consumer.seek(TopicPartition(*key, pending[0]))
    finally:
        consumer.close()
    return found


def _settle(
    env: Environment, message: Any, pending: list[int], key: Key, found: Found
) -> int | None:
    """Settle the partition's wanted offsets that ``message`` answers (all those at or below
    it: it is the first readable record after each); the offset read, or None when the
    message is not a record (an error, or the end of the log, which settles all the rest)."""
    from confluent_kafka import KafkaError, KafkaException

    from hyperscale.kafka.client import TimedOffset

    error = message.error()
    if error is not None and error.code() != KafkaError._PARTITION_EOF:
        if error.fatal():
            raise ExternalSystemError(
                f"Kafka at {env.kafka.bootstrap}: {KafkaException(error).args[0].str()}"
            )
        return None
    if error is not None:  # end of the log: nothing readable at or after what is left
        found.update({(*key, offset): None for offset in pending})
        pending.clear()
        return None
    offset = message.offset() or 0
    kind, timestamp_ms = message.timestamp()
    record = TimedOffset(offset, timestamp_ms) if kind != 0 and timestamp_ms >= 0 else None
    while pending and pending[0] <= offset:
        found[(*key, pending.pop(0))] = record
    return offset
