"""Configuration, from environment variables only. Secrets come from files named by them."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_PORT = 65_535
SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


def parse_endpoint(value: str) -> Endpoint:
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) <= MAX_PORT:
        raise ValueError(f"expected host:port, got {value!r}")
    return Endpoint(host.strip("[]"), int(port))


def read_secret_file(path: Path, what: str) -> SecretStr:
    """The secret in ``path``, stripped of surrounding whitespace; never logged."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{what}: cannot read {path}: {exc.strerror or exc}") from None
    if not value:
        raise ValueError(f"{what}: {path} is empty")
    return SecretStr(value)


class ConsumerSettings(BaseSettings):
    """One field per environment variable (upper-cased name); nothing is read from argv."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", frozen=True)

    kafka_bootstrap_servers: str = Field(min_length=1)
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_sasl_mechanism: SaslMechanism | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password_file: Path | None = None

    orders_topic: str = Field(default="orders", min_length=1)
    events_topic: str = Field(default="marketing-events", min_length=1)
    dlq_suffix: str = Field(default=".dlq", min_length=1)
    consumer_group: str = Field(default="platform-consumer", min_length=1)
    #: Static membership: a name for this consumer that stays the same across its restarts
    #: (a supervised program's name, a StatefulSet pod's). A restarted consumer then takes its
    #: own partitions back with no rebalance, and the rest of the group never pauses. Leave it
    #: unset where names change on every start (a Deployment's pods): a static member does not
    #: leave the group when it closes, so its partitions would wait out the session timeout.
    consumer_instance_id: str | None = Field(default=None, min_length=1, max_length=249)
    #: How long a member that died without a word keeps its partitions (the broker allows
    #: 6-300 s by default). 10 s: short enough that a lost consumer's partitions move on
    #: quickly, long enough for a restart under supervision to come back inside it.
    consumer_session_timeout_ms: int = Field(default=10_000, ge=6_000, le=300_000)

    mysql_writer: str  # host:port, parsed into ``mysql_endpoint``
    mysql_database: str = Field(min_length=1)
    mysql_user: str = Field(min_length=1)
    mysql_password_file: Path
    mysql_tls: bool = False

    consumer_batch_size: int = Field(default=500, ge=1, le=100_000)
    consumer_batch_wait_ms: int = Field(default=200, ge=1, le=60_000)
    consumer_max_attempts: int = Field(default=5, ge=1, le=100)
    #: After SIGTERM, how long the batch in hand may still take. A batch past it (a long
    #: record-by-record pass) is rolled back uncommitted and redelivered to whoever comes next;
    #: below Kubernetes' default 30 s terminationGracePeriodSeconds and supervisord's stopwaitsecs.
    consumer_stop_grace_s: float = Field(default=20.0, gt=0, le=600)
    #: The progress watchdog (platform_consumer/progress.py): records waiting on assigned
    #: partitions and none read for this long, and the consumer reports 503 on /healthz and
    #: exits 1 so that its supervisor starts a fresh one. A wait on MySQL is not a stall, nor is
    #: an idle consumer with nothing ahead. 0 turns the watchdog off.
    consumer_stall_timeout_s: float = Field(default=60.0, ge=0, le=3_600)
    #: How long processed_events rows are kept (platform_consumer/retention.py); unset: as long
    #: as the consumed topics keep records, read from the brokers.
    consumer_dedupe_retention_s: int | None = Field(default=None, ge=60)
    #: Seconds between pruning rounds when the table is caught up; 0 turns pruning off.
    consumer_prune_interval_s: float = Field(default=5.0, ge=0, le=3_600)
    #: Rows per DELETE statement (each its own short transaction).
    consumer_prune_batch: int = Field(default=5_000, ge=1, le=100_000)
    consumer_metrics_host: str = "127.0.0.1"
    consumer_metrics_port: int = Field(default=19102, ge=0, le=65_535)

    @field_validator("mysql_writer")
    @classmethod
    def _host_port(cls, value: str) -> str:
        parse_endpoint(value)
        return value.strip()

    @model_validator(mode="after")
    def _sasl_complete(self) -> ConsumerSettings:
        if self.kafka_security_protocol.startswith("SASL_"):
            missing = [
                name.upper()
                for name in (
                    "kafka_sasl_mechanism",
                    "kafka_sasl_username",
                    "kafka_sasl_password_file",
                )
                if getattr(self, name) is None
            ]
            if missing:
                protocol = self.kafka_security_protocol
                raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs {', '.join(missing)}")
        return self

    @property
    def mysql_endpoint(self) -> Endpoint:
        return parse_endpoint(self.mysql_writer)

    @property
    def topics(self) -> tuple[str, str]:
        return (self.orders_topic, self.events_topic)

    def dead_letter_topic(self, topic: str) -> str:
        return topic + self.dlq_suffix

    def mysql_password(self) -> SecretStr:
        return read_secret_file(self.mysql_password_file, "MYSQL_PASSWORD_FILE")

    def kafka_common(self) -> dict[str, Any]:
        """Client settings shared by the consumer and the dead-letter producer."""
        config: dict[str, Any] = {
            "bootstrap.servers": self.kafka_bootstrap_servers,
            "security.protocol": self.kafka_security_protocol,
            "client.id": f"platform-consumer-{socket.gethostname()}",
        }
        if self.kafka_sasl_password_file is not None and self.kafka_security_protocol.startswith(
            "SASL_"
        ):
            password = read_secret_file(self.kafka_sasl_password_file, "KAFKA_SASL_PASSWORD_FILE")
            config |= {
                "sasl.mechanism": self.kafka_sasl_mechanism,
                "sasl.username": self.kafka_sasl_username,
                "sasl.password": password.get_secret_value(),
            }
        return config


def describe_validation_error(exc: Exception) -> str:
    """One line naming each offending environment variable, without echoing values."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    parts = []
    for error in errors():
        location = "_".join(str(p) for p in error.get("loc", ())).upper() or "settings"
        parts.append(f"{location}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)
