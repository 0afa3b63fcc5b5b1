"""The assigned reader against the real local broker: records and ends of partitions, offsets
committed only when asked, and a group it never joins."""

from __future__ import annotations

import time

import pytest

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.models import PartitionEnd, Record
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.kafka.support import Record as Written
from tests.kafka.support import create_topic, produce_records

pytestmark = pytest.mark.kafka


def read_to_the_end(reader: AssignedReader, partitions: int) -> list[Record | PartitionEnd]:
    items: list[Record | PartitionEnd] = []
    deadline = time.monotonic() + 30
    while sum(isinstance(i, PartitionEnd) for i in items) < partitions:
        assert time.monotonic() < deadline, items
        items += reader.fetch(100, 0.5)
    return items


def test_records_from_the_assigned_offsets_then_the_end_of_each_partition(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 2)
    written: list[Written] = [
        (b"k0", b"v0", [("h", b"1")], 1_700_000_000_000, 0),
        (None, None, [], 1_700_000_000_001, 0),
        (b"k2", b"v2", [("h", b"2"), ("h", b"3")], 1_700_000_000_002, 1),
    ]
    produce_records(bootstrap, topic, written)

    with AssignedReader(local_env, shared_app, f"{prefix}-g") as reader:
        reader.assign({(topic, 0): 1, (topic, 1): 0})
        items = read_to_the_end(reader, 2)

    records = sorted(
        (r.partition, r.offset, r.key, r.value, r.headers, r.timestamp_ms)
        for r in items
        if isinstance(r, Record)
    )
    assert records == [
        (0, 1, None, None, [], 1_700_000_000_001),
        (1, 0, b"k2", b"v2", [("h", b"2"), ("h", b"3")], 1_700_000_000_002),
    ]
    ends = [i for i in items if isinstance(i, PartitionEnd)]
    assert sorted((e.topic, e.partition) for e in ends) == [(topic, 0), (topic, 1)]
    for end in ends:  # an end comes after the partition's records
        assert all(
            items.index(r) < items.index(end)
            for r in items
            if isinstance(r, Record) and r.partition == end.partition
        )


def test_poll_seek_and_release(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    produce_records(
        bootstrap, topic, [(b"%d" % i, b"v", [], 1_700_000_000_000 + i, 0) for i in range(10)]
    )

    with AssignedReader(local_env, shared_app, f"{prefix}-g", fetch_wait_ms=50) as reader:
        reader.assign({(topic, 0): 2})
        first = None
        while first is None:
            first = reader.poll(1.0)
        assert isinstance(first, Record)
        assert (first.offset, first.key) == (2, b"2")
        reader.seek((topic, 0), 8)
        after_seek = None
        while not isinstance(after_seek, Record) or after_seek.offset < 8:
            after_seek = reader.poll(1.0)
        assert (after_seek.offset, after_seek.key) == (8, b"8")
        reader.release((topic, 0))
        assert reader.poll(0.5) is None


def test_offsets_move_only_when_committed_and_the_group_is_never_joined(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 2)
    produce_records(bootstrap, topic, [(b"k", b"v", [], 1_700_000_000_000, 0)] * 3)
    group = f"{prefix}-g"
    partitions = [(topic, 0), (topic, 1)]

    with AssignedReader(local_env, shared_app, group, read_committed=True) as reader:
        reader.assign(dict.fromkeys(partitions, 0))
        read_to_the_end(reader, 2)
        assert reader.committed(partitions, 10) == {(topic, 0): None, (topic, 1): None}
        members = KafkaAdmin(local_env, shared_app).describe_groups([group])[group].members
        reader.commit({(topic, 0): 3})
        assert reader.committed(partitions, 10) == {(topic, 0): 3, (topic, 1): None}

    assert members == 0
