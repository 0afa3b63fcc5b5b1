"""`hyperscale kafka dlq inspect` against the real local broker: three header dialects."""

from __future__ import annotations

import json
import struct
import uuid
from typing import Any

import pytest
from platform_events.dlq import DeadLetterHeaders

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.dlq.core import INSPECT_GROUP
from hyperscale.kafka.dlq.headers import decode_headers
from hyperscale.kafka.dlq.results import Dialect
from tests.conftest import invoke
from tests.kafka.support import commit, create_topic
from tests.support import free_port

pytestmark = pytest.mark.kafka

HOUR_MS = 3_600_000
#: 2026-01-02T03:00:00Z and the hour after it: the record timestamps, fixed so hours are known.
BASE_MS = 1_767_322_800_000
#: Records that old are past the broker's default retention: keep them for as long as a test runs.
KEEP = {"retention.ms": "-1"}


def group_ids(bootstrap: str) -> set[str]:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    listing = admin.list_consumer_groups(request_timeout=10).result(timeout=15)
    return {g.group_id for g in listing.valid}


def committed_offsets(bootstrap: str, group: str, topic: str, partitions: int) -> dict[int, Any]:
    """Partition -> the group's committed offset on ``topic`` (None where it has none)."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    try:
        found = consumer.committed([TopicPartition(topic, p) for p in range(partitions)], 10)
    finally:
        consumer.close()
    return {tp.partition: tp.offset if tp.offset >= 0 else None for tp in found}


def inspect_json(app: AppContext, *args: str) -> tuple[int, dict[str, Any]]:
    outcome = invoke(app, "kafka", "dlq", "inspect", "-o", "json", *args)
    return outcome.exit_code, json.loads(outcome.stdout)


def dead_letters(prefix: str) -> list[tuple[int, int, list[tuple[str, bytes]], bytes]]:
    """(partition, timestamp, headers, value): one record per dialect and oddity."""
    ours = [
        *DeadLetterHeaders(
            original_topic=f"{prefix}-orders",
            original_partition=2,
            original_offset=41,
            original_timestamp_ms=BASE_MS - 5000,
            consumer_group=f"{prefix}-svc",
            exception_class="pydantic_core.ValidationError",
            exception_message="1 validation error for OrderCreated",
            attempts=3,
            failed_at_ms=BASE_MS + 10 * 60_000,  # 03:10, though the record says 04:xx
        ).encode(),
        ("hyperscale.dlq.replay-count", b"1"),
    ]
    spring_binary = [
        ("kafka_dlt-original-topic", f"{prefix}-payments".encode()),
        ("kafka_dlt-original-partition", struct.pack(">i", 5)),
        ("kafka_dlt-original-offset", struct.pack(">q", 9_000_000_001)),
        ("kafka_dlt-original-timestamp", struct.pack(">q", BASE_MS - 1000)),
        ("kafka_dlt-original-consumer-group", b"payments-svc"),
        ("kafka_dlt-exception-fqcn", b"java.lang.IllegalStateException"),
        ("kafka_dlt-exception-message", b"boom"),
    ]
    spring_text = [
        ("kafka_dlt-original-topic", f"{prefix}-payments".encode()),
        ("kafka_dlt-original-partition", b"7"),
        ("kafka_dlt-original-offset", b"1234"),
        ("kafka_dlt-exception-fqcn", b"java.lang.IllegalStateException"),
    ]
    connect = [
        ("__connect.errors.topic", f"{prefix}-clicks".encode()),
        ("__connect.errors.partition", b"0"),
        ("__connect.errors.offset", b"77"),
        ("__connect.errors.connector.name", b"s3-sink"),
        ("__connect.errors.exception.class.name", b"org.apache.kafka.connect.errors.DataException"),
        ("__connect.errors.exception.message", b"Converting byte[] to Kafka Connect data failed"),
    ]
    malformed = [
        ("hyperscale.dlq.original-topic", f"{prefix}-orders".encode()),
        ("hyperscale.dlq.original-partition", b"not-a-number"),
        ("hyperscale.dlq.exception-class", b"KeyError"),
    ]
    return [
        (0, BASE_MS + HOUR_MS + 1, ours, b'{"order_id": 1}'),
        (0, BASE_MS + HOUR_MS + 2, spring_binary, b"spring"),
        (1, BASE_MS + HOUR_MS + 3, spring_text, b"spring text"),
        (1, BASE_MS + 4, connect, b"connect"),
        (1, BASE_MS + 5, malformed, b"bad"),
        (0, BASE_MS + 6, [], b"\xff\xfe\x00binary"),
    ]


def produce(bootstrap: str, topic: str, records: list[Any]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for partition, timestamp, headers, value in records:
        producer.produce(
            topic, key=b"k", value=value, partition=partition, timestamp=timestamp, headers=headers
        )
    assert producer.flush(30) == 0


def test_three_dialects_are_counted_and_decoded_without_moving_offsets(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}.dlq", 2, KEEP)
    produce(bootstrap, topic, dead_letters(prefix))
    reader = f"{prefix}-dlq-reader"  # a group that consumes the DLQ: inspect must not move it
    commit(bootstrap, reader, {(topic, 0): 1, (topic, 1): 2})

    code, document = inspect_json(isolated_app, topic, "--samples", "10")

    assert code == ExitCode.OK, document
    assert document["command"] == "kafka dlq inspect"
    assert document["status"] == "ok"
    data = document["data"]
    assert data["topics"] == [{"topic": topic, "partitions": 2, "records": 6}]
    assert data["total"] == 6
    assert data["malformed_headers"] == 1
    assert data["by_dialect"] == {"hyperscale": 2, "spring": 2, "connect": 1, "none": 1}
    assert data["by_exception_class"] == {
        "java.lang.IllegalStateException": 2,
        "pydantic_core.ValidationError": 1,
        "org.apache.kafka.connect.errors.DataException": 1,
        "KeyError": 1,
        "(none)": 1,
    }
    assert data["by_origin_topic"] == {
        f"{prefix}-orders": 2,
        f"{prefix}-payments": 2,
        f"{prefix}-clicks": 1,
        "(none)": 1,
    }
    # ours counts at its failed-at (03:10); the others at their record timestamps
    assert data["by_hour"] == {"2026-01-02T03:00:00+00:00": 4, "2026-01-02T04:00:00+00:00": 2}
    assert data["oldest"] == "2026-01-02T03:00:00.004000+00:00"
    assert data["newest"] == "2026-01-02T04:00:00.003000+00:00"

    samples = {(s["partition"], s["offset"]): s for s in data["samples"]}
    assert len(samples) == 6
    letters = {k: s["dead_letter"] for k, s in samples.items()}
    ours, spring_binary, binary = letters[(0, 0)], letters[(0, 1)], samples[(0, 2)]
    assert ours["dialect"] == "hyperscale"
    assert (ours["origin_partition"], ours["origin_offset"], ours["attempts"]) == (2, 41, 3)
    assert (ours["group"], ours["replay_count"]) == (f"{prefix}-svc", 1)
    assert ours["failed_at"] == "2026-01-02T03:10:00+00:00"
    assert spring_binary["dialect"] == "spring"
    assert (spring_binary["origin_partition"], spring_binary["origin_offset"]) == (5, 9_000_000_001)
    assert spring_binary["origin_timestamp"] == "2026-01-02T02:59:59+00:00"
    assert spring_binary["group"] == "payments-svc"
    assert spring_binary["exception_message"] == "boom"
    spring_text, connect, malformed = letters[(1, 0)], letters[(1, 1)], letters[(1, 2)]
    assert (spring_text["origin_partition"], spring_text["origin_offset"]) == (7, 1234)
    assert connect["dialect"] == "connect"
    assert (connect["origin_topic"], connect["origin_partition"]) == (f"{prefix}-clicks", 0)
    assert (connect["origin_offset"], connect["connector"]) == (77, "s3-sink")
    assert malformed["malformed_headers"] == ["hyperscale.dlq.original-partition"]
    assert malformed["origin_partition"] is None
    assert malformed["origin_topic"] == f"{prefix}-orders"
    # values: text when UTF-8, base64 when not; headers shown too
    assert (samples[(0, 0)]["value"], samples[(0, 0)]["value_encoding"]) == (
        '{"order_id": 1}',
        "utf-8",
    )
    assert binary["dead_letter"]["dialect"] == "none"
    assert (binary["value"], binary["value_encoding"]) == ("//4AYmluYXJ5", "base64")
    partition_header = next(
        h for h in samples[(0, 1)]["headers"] if h["name"] == "kafka_dlt-original-partition"
    )
    assert partition_header == {
        "name": "kafka_dlt-original-partition",
        "value": "AAAABQ==",
        "encoding": "base64",
    }

    # Read-only: the DLQ's consumer group is where it was; inspect reads with assigned
    # partitions, so its placeholder group never joined (it is not a group on the broker) and
    # committed nothing on the topic.
    assert committed_offsets(bootstrap, reader, topic, 2) == {0: 1, 1: 2}
    assert INSPECT_GROUP not in group_ids(bootstrap)
    assert committed_offsets(bootstrap, INSPECT_GROUP, topic, 2) == {0: None, 1: None}


def poison_headers(prefix: str, offset: int, value: bytes) -> list[tuple[str, Any]]:
    """The dead-letter headers the platform's consumer writes for ``value``: the exception the
    events contract raises on it, named as the consumer names it."""
    from platform_consumer.dlq import exception_class
    from platform_events.models import decode_event

    try:
        decode_event(value)
    except ValueError as error:
        return DeadLetterHeaders(
            original_topic=f"{prefix}-orders",
            original_partition=0,
            original_offset=offset,
            original_timestamp_ms=BASE_MS,
            consumer_group="platform-consumer",
            exception_class=exception_class(error),
            exception_message=str(error),
            attempts=1,
            failed_at_ms=BASE_MS + offset,
        ).encode()
    raise AssertionError(f"{value!r} is not poison")


def test_kinds_of_poison_are_told_apart_by_their_masked_message(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    """Three kinds of poison raise one exception class; they are three kinds of failure, each
    counted over records whose ids and values differ, with a sample of its own."""
    not_json = [b"not json %d" % i for i in range(4)]
    unknown_type = [b'{"type": "order.v%d", "id": "%s"}' % (i, uuid.uuid4().hex.encode())
                    for i in range(3)]  # fmt: skip
    missing_fields = [b'{"type": "order.created", "id": %d}' % i for i in range(2)]
    values = [*not_json, *unknown_type, *missing_fields]
    topic = create_topic(bootstrap, f"{prefix}.dlq", 1, KEEP)
    produce(
        bootstrap,
        topic,
        [(0, BASE_MS + i, poison_headers(prefix, i, v), v) for i, v in enumerate(values)],
    )

    code, document = inspect_json(isolated_app, topic)

    assert code == ExitCode.OK, document
    data = document["data"]
    assert data["by_exception_class"] == {"pydantic_core.ValidationError": 9}
    kinds = data["by_failure"]
    assert [k["records"] for k in kinds] == [4, 3, 2]
    assert {k["exception_class"] for k in kinds} == {"pydantic_core.ValidationError"}
    assert len({k["fingerprint"] for k in kinds}) == 3
    # Each kind's sample is one of its own records; its pattern says what failed.
    assert [k["sample"]["offset"] for k in kinds] == [0, 4, 7]
    for kind, needle in zip(kinds, ("Invalid JSON", "Input tag", "Field required"), strict=True):
        assert needle in kind["pattern"]
        assert needle in kind["sample"]["message"]
    # What varies from record to record is masked in the pattern, kept in the sample.
    assert "order.v" not in kinds[1]["pattern"]
    assert "order.v0" in kinds[1]["sample"]["message"]

    table = invoke(isolated_app, "kafka", "dlq", "inspect", topic)
    assert table.exit_code == ExitCode.OK
    assert "by kind of failure" in table.stdout
    assert all(k["fingerprint"] in table.stdout for k in kinds)


def test_samples_are_capped_and_the_default_finds_dlq_topics_by_suffix(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}.dlq", 2, KEEP)
    produce(bootstrap, topic, dead_letters(prefix))
    create_topic(bootstrap, f"{prefix}-orders", 1)  # not a DLQ: never read

    code, document = inspect_json(isolated_app, "--samples", "2")

    assert code == ExitCode.OK
    reads = {t["topic"]: t for t in document["data"]["topics"]}
    assert reads[topic]["records"] == 6
    assert f"{prefix}-orders" not in reads
    assert len(document["data"]["samples"]) == 2

    table = invoke(isolated_app, "kafka", "dlq", "inspect", topic)
    assert table.exit_code == ExitCode.OK
    assert "6 dead-lettered record(s)" in table.stdout
    assert "pydantic_core.ValidationError" in table.stdout


def test_filters_by_time_window_and_exception_class(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}.dlq", 2, KEEP)
    produce(bootstrap, topic, dead_letters(prefix))

    code, window = inspect_json(
        isolated_app, topic, "--since", "2026-01-02T03:05", "--until", "2026-01-02T04:00:00.003"
    )
    _, java = inspect_json(isolated_app, topic, "--exception", r"^java\.")
    _, spring_text = inspect_json(
        isolated_app, topic, "--header", "kafka_dlt-original-topic", "--offsets", "1000-2000"
    )
    bad = invoke(isolated_app, "kafka", "dlq", "inspect", topic, "--since", "yesterday")

    assert code == ExitCode.OK
    # ours failed at 03:10; the two Spring records at 04:00:00.002 and .003 (the last excluded)
    assert (window["data"]["read"], window["data"]["total"]) == (6, 2)
    assert window["data"]["by_dialect"] == {"hyperscale": 1, "spring": 1}
    assert window["data"]["filtered"] is True
    assert java["data"]["by_exception_class"] == {"java.lang.IllegalStateException": 2}
    assert {s["dead_letter"]["dialect"] for s in java["data"]["samples"]} == {"spring"}
    # Spring's two records: only the text one (original offset 1234) is in the range
    assert spring_text["data"]["total"] == 1
    assert spring_text["data"]["samples"][0]["value"] == "spring text"
    assert bad.exit_code == ExitCode.USAGE
    assert "--since 'yesterday'" in bad.stderr


def test_an_empty_dlq_has_zero_counts(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    topic = create_topic(bootstrap, f"{prefix}.dlq", 3)

    code, document = inspect_json(isolated_app, topic)

    assert code == ExitCode.OK
    data = document["data"]
    assert (data["total"], data["malformed_headers"], data["samples"]) == (0, 0, [])
    assert data["by_exception_class"] == {}
    assert (data["oldest"], data["newest"]) == (None, None)


def test_a_missing_topic_is_one_line_and_exit_2(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    outcome = invoke(isolated_app, "kafka", "dlq", "inspect", f"{prefix}-absent.dlq")

    assert outcome.exit_code == ExitCode.USAGE
    assert f"no topic {prefix}-absent.dlq" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_an_unreachable_broker_is_one_line_and_exit_3(isolated_app: AppContext) -> None:
    address = f"127.0.0.1:{free_port()}"
    outcome = invoke(
        isolated_app, "kafka", "dlq", "inspect", "--bootstrap", address, "--timeout", "2"
    )

    assert outcome.exit_code == ExitCode.EXTERNAL
    assert "unreachable" in outcome.stderr
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_spring_integers_are_binary_or_text_and_bad_ones_are_malformed() -> None:
    binary = decode_headers(
        [
            ("kafka_dlt-original-partition", struct.pack(">i", 3)),
            ("kafka_dlt-original-offset", struct.pack(">q", 12)),
        ]
    )
    text = decode_headers(
        [("kafka_dlt-original-partition", b"1234"), ("kafka_dlt-original-offset", b"12")]
    )
    bad = decode_headers([("kafka_dlt-original-partition", b"\x00\x01")])

    assert (binary.dialect, binary.origin_partition, binary.origin_offset) == (
        Dialect.SPRING,
        3,
        12,
    )
    assert (text.origin_partition, text.origin_offset) == (1234, 12)
    assert bad.malformed == ("kafka_dlt-original-partition",)
    assert decode_headers(None).dialect is Dialect.NONE
