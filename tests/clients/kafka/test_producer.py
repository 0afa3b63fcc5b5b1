"""The producer against the real local broker: a transaction holds records and a group's
offsets together, an abort hides both, and a fenced producer says it was fenced."""

from __future__ import annotations

import pytest

from hyperscale.clients.kafka.errors import KafkaCallError
from hyperscale.clients.kafka.producer import KafkaProducer
from hyperscale.clients.kafka.readers import AssignedReader
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.kafka.support import committed_total, create_topic, read_all

pytestmark = pytest.mark.kafka


def test_records_and_offsets_commit_together_and_an_abort_hides_both(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    group = f"{prefix}-g"
    producer = KafkaProducer(local_env, shared_app, transactional_id=f"{prefix}-tx", timeout=10)
    with AssignedReader(local_env, shared_app, group) as reader:
        producer.begin()
        producer.produce(topic, b"k", b"kept", 0, 1_700_000_000_000, [("h", b"1")])
        producer.send_offsets({(topic, 0): 7}, reader)
        producer.commit()
        producer.begin()
        producer.produce(topic, b"k", b"aborted", None, None, [])
        producer.send_offsets({(topic, 0): 9}, reader)
        producer.abort()
    producer.flush()

    assert read_all(bootstrap, topic) == [(b"k", b"kept", [("h", b"1")], 1_700_000_000_000, 0)]
    assert committed_total(bootstrap, group, topic, 1) == 7
    assert len(read_all(bootstrap, topic, read_committed=False)) == 2


def test_a_fenced_producer_reports_the_fencing_not_a_bare_fatal_error(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    old = KafkaProducer(local_env, shared_app, transactional_id=f"{prefix}-tx", timeout=10)
    old.begin()
    old.produce(topic, b"k", b"old", None, None, [])
    old.poll(0.5)

    new = KafkaProducer(local_env, shared_app, transactional_id=f"{prefix}-tx", timeout=10)

    def finish_old() -> None:
        old.produce(topic, b"k", b"late", None, None, [])
        old.commit()

    with pytest.raises(KafkaCallError) as raised:
        finish_old()

    failure = raised.value.failure
    assert failure.fenced, failure
    assert failure.name != "_FATAL"
    new.begin()
    new.produce(topic, b"k", b"new", None, None, [])
    new.commit()
    assert [r[1] for r in read_all(bootstrap, topic)] == [b"new"]


def test_at_least_once_reports_a_failed_delivery(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    producer = KafkaProducer(local_env, shared_app, transactional_id=None, timeout=10)

    def send_to_a_missing_partition() -> None:
        producer.produce(topic, b"k", b"v", 5, None, [])
        producer.flush_deliveries()

    with pytest.raises(KafkaCallError) as raised:
        send_to_a_missing_partition()

    assert raised.value.failure.name == "_UNKNOWN_PARTITION", raised.value.failure
