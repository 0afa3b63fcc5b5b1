"""Reading Kafka failures, on errors the real local broker and client raise."""

from __future__ import annotations

import concurrent.futures

import pytest

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.errors import failure_of, unreachable_error
from hyperscale.clients.kafka.models import NewTopicSpec
from hyperscale.clients.kafka.topic_admin import TopicAdmin
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from tests.kafka.support import create_topic
from tests.support import free_port

pytestmark = pytest.mark.kafka


def test_a_refusal_reads_as_its_code_name_and_text(bootstrap: str, prefix: str) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    topic = create_topic(bootstrap, f"{prefix}-t", 1)
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept: its futures die with it
    future = admin.create_topics([NewTopic(topic, 1, 1)])[topic]
    with pytest.raises(KafkaException) as raised:
        future.result(timeout=30)

    failure = failure_of(raised.value)

    assert failure.name == "TOPIC_ALREADY_EXISTS"
    assert topic in failure.text
    assert "KafkaError{" not in failure.text  # the text, not the object's repr
    assert (failure.fatal, failure.retriable, failure.unreachable) == (False, False, False)
    assert failure_of(raised.value.args[0]) == failure  # a bare KafkaError reads the same


def test_a_closed_port_is_unreachable(bootstrap: str) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    address = f"127.0.0.1:{free_port()}"
    admin = AdminClient({"bootstrap.servers": address, "log_level": 0})
    with pytest.raises(KafkaException) as raised:
        admin.list_topics(timeout=1)

    failure = failure_of(raised.value)
    error = unreachable_error(address, raised.value, "the offsets of t[0]")

    assert failure.name in {"_TRANSPORT", "_TIMED_OUT"}
    assert failure.unreachable
    assert error.message == f"Kafka at {address} is unreachable: {failure.text}"
    assert error.hint is not None
    assert "hyperscale local status" in error.hint


def test_a_failure_without_a_kafka_error_is_its_text_and_counts_as_unreachable() -> None:
    from confluent_kafka import KafkaException

    timeout = failure_of(concurrent.futures.TimeoutError())
    plain = failure_of(KafkaException("delivery timed out"))

    assert (timeout.name, timeout.text, timeout.unreachable) == ("", "", True)
    assert (plain.name, plain.text, plain.fatal) == ("", "delivery timed out", False)


def test_a_refusal_names_what_was_being_read(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    admin = TopicAdmin(local_env, shared_app, timeout=5)
    missing = f"{prefix}-missing"

    with pytest.raises(ExternalSystemError) as raised:
        admin.configs([missing])

    message = raised.value.message
    assert message.startswith(f"reading the configs of topic {missing} from Kafka at {bootstrap}:")
    assert "unreachable" not in message


def test_create_and_delete_accept_what_is_already_done(
    bootstrap: str, prefix: str, shared_app: AppContext, local_env: Environment
) -> None:
    admin = TopicAdmin(local_env, shared_app, timeout=10)
    spec = NewTopicSpec(f"{prefix}-made", 2, 1, {"retention.ms": "3600000"})

    admin.create([spec])
    admin.create([spec])  # made concurrently by someone else: what we wanted

    assert admin.topics()[spec.name].partitions == 2
    assert admin.configs([spec.name])[spec.name].explicit == {"retention.ms": "3600000"}
    admin.delete([spec.name])
    admin.delete([spec.name, f"{prefix}-never-made"])  # gone already: what we wanted


def test_an_unreachable_broker_is_one_error_with_a_hint(
    shared_app: AppContext, local_env: Environment
) -> None:
    from hyperscale.clients.kafka.config import with_bootstrap

    address = f"127.0.0.1:{free_port()}"
    admin = KafkaAdmin(with_bootstrap(local_env, address), shared_app, timeout=1)

    with pytest.raises(ExternalSystemError) as raised:
        admin.consumer_groups()

    assert raised.value.message.startswith(f"Kafka at {address} is unreachable: ")
    assert raised.value.hint is not None
