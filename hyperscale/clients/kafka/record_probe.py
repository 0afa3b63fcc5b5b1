"""Read the record at given offsets (its offset and timestamp): the time lag's input.

Assigned readers (never joining a group, never committing) read every wanted partition at
once. A partition is wanted at one offset per lagging group; its offsets are read in order:
when the next one is near (``READ_THROUGH`` records or fewer ahead) the reader reads on to
it, which costs nothing but the records in between, otherwise it seeks, which costs a round
trip. Partitions are shared among ``lanes`` readers that run in parallel.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from hyperscale.clients.kafka.models import PartitionEnd, TimedOffset, TopicPartitionKey
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.config.models import Environment
from hyperscale.context import AppContext

#: Read on instead of seeking when the next wanted offset is at most this many records ahead:
#: at 1 KiB a record that is 64 KiB, less than a seek's round trip costs on any network.
READ_THROUGH = 64
PROBE_GROUP = "hyperscale-lag-probe"

Found = dict[tuple[str, int, int], TimedOffset | None]


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

    queues: dict[TopicPartitionKey, list[int]] = {}
    for topic, partition, offset in sorted(set(wanted)):
        queues.setdefault((topic, partition), []).append(offset)
    per_lane: list[dict[TopicPartitionKey, list[int]]] = [{} for _ in range(max(1, lanes))]
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
    env: Environment,
    app: AppContext,
    queues: dict[TopicPartitionKey, list[int]],
    deadline: float,
) -> Found:
    found: Found = {}
    # read_uncommitted: the records of open transactions have ages too.
    with AssignedReader(env, app, PROBE_GROUP, fetch_wait_ms=50) as reader:
        reader.assign({key: offsets[0] for key, offsets in queues.items()})
        while queues and time.monotonic() < deadline:
            item = reader.poll(min(0.5, max(0.0, deadline - time.monotonic())))
            if item is None:
                continue
            key = (item.topic, item.partition)
            pending = queues.get(key)
            if not pending:
                continue
            if isinstance(item, PartitionEnd):
                # Nothing readable at or after what is left: it settles them all.
                found.update({(*key, offset): None for offset in pending})
                pending.clear()
            else:
                record = (
                    TimedOffset(item.offset, item.timestamp_ms)
                    if item.timestamp_ms is not None
                    else None
                )
                # It is the first readable record after each wanted offset at or below it.
                while pending and pending[0] <= item.offset:
                    found[(*key, pending.pop(0))] = record
            if not pending:
                del queues[key]
                reader.release(key)
            elif not isinstance(item, PartitionEnd) and pending[0] - item.offset > READ_THROUGH:
                reader.seek(key, pending[0])
    return found
