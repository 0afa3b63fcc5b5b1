"""The adapter to a Kafka cluster's admin API (confluent_kafka), with the environment's security."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.config.secrets import resolve_secret
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.kafka.topics import TopicSpec

log = logging.getLogger(__name__)


def client_config(
    env: Environment, app: AppContext, bootstrap: str | None = None
) -> dict[str, Any]:
    """librdkafka settings for the environment: bootstrap, TLS/SASL (MSK), quiet logging."""
    security = env.kafka.security
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap or env.kafka.bootstrap,
        "security.protocol": security.protocol,
        "logger": logging.getLogger("hyperscale.librdkafka"),
    }
    if security.sasl_mechanism:
        config["sasl.mechanism"] = security.sasl_mechanism
        config["sasl.username"] = security.username
        if security.password is not None:
            config["sasl.password"] = resolve_secret(app, security.password, env.aws)
    if security.ca_file:
        config["ssl.ca.location"] = security.ca_file
    return config


@dataclass(frozen=True)
class TopicState:
    name: str
    partitions: int


class KafkaAdmin:
    def __init__(self, env: Environment, app: AppContext, timeout: float = 10.0) -> None:
        from confluent_kafka.admin import AdminClient

        self.env = env
        self.timeout = timeout
        self.admin = AdminClient(client_config(env, app))

    def topics(self) -> dict[str, TopicState]:
        from confluent_kafka import KafkaException

        try:
            metadata = self.admin.list_topics(timeout=self.timeout)
        except KafkaException as exc:
            raise ExternalSystemError(
                f"Kafka at {self.env.kafka.bootstrap} is unreachable: {exc.args[0]}",
                hint="is the broker up? `hyperscale local status`",
            ) from None
        return {
            name: TopicState(name, len(topic.partitions))
            for name, topic in metadata.topics.items()
            if not name.startswith("__")
        }

    def create(self, specs: list[TopicSpec]) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka.cimpl import NewTopic

        if not specs:
            return
        futures = self.admin.create_topics(
            [
                NewTopic(
                    s.name,
                    num_partitions=s.partitions,
                    replication_factor=s.replication_factor,
                    config=s.config,
                )
                for s in specs
            ],
            operation_timeout=self.timeout,
        )
        for name, future in futures.items():
            try:
                future.result(timeout=self.timeout)
            except KafkaException as exc:
                error = exc.args[0]
                if getattr(error, "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
                    continue  # created concurrently: what we wanted
                raise ExternalSystemError(f"creating topic {name} failed: {error}") from None


def ensure_topics(env: Environment, app: AppContext, specs: list[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; return their names (idempotent)."""
    admin = KafkaAdmin(env, app)
    existing = admin.topics()
    missing = [s for s in specs if s.name not in existing]
    admin.create(missing)
    return [s.name for s in missing]
