"""The API's configuration: environment variables only, secrets read from files at start.

Secrets never travel in an environment value or on the command line: MYSQL_PASSWORD_FILE,
REDIS_PASSWORD_FILE and KAFKA_SASL_PASSWORD_FILE name files (a mounted Kubernetes secret, or the
local state directory) whose content is read once, when the service starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from platform_api.errors import ConfigurationError

HostPort = Annotated[str, Field(pattern=r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$")]


class Settings(BaseSettings):
    """Exactly the documented variables; the field name upper-cased is the variable name."""

    model_config = SettingsConfigDict(case_sensitive=False, frozen=True, extra="ignore")

    kafka_bootstrap_servers: str = Field(min_length=1)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password_file: Path | None = None
    orders_topic: str = Field(default="orders", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    events_topic: str = Field(default="marketing-events", pattern=r"^[A-Za-z0-9._-]{1,249}$")

    mysql_writer: HostPort
    mysql_reader: HostPort
    mysql_database: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$")
    mysql_user: str = Field(pattern=r"^[A-Za-z0-9_]{1,32}$")
    mysql_password_file: Path
    mysql_tls: bool = False
    #: Connections per pool (writer, reader) in each API process.
    mysql_pool_size: int = Field(default=10, ge=1, le=100)

    redis_url: str = Field(pattern=r"^rediss?://")
    redis_password_file: Path | None = None

    product_cache_ttl_s: int = Field(default=300, ge=1)

    #: OAuth2: the issuer whose JWTs are accepted, the audience they must name, and where its
    #: public keys are (a JWKS file, or the issuer's jwks_uri). No setting turns checks off.
    auth_issuer: str = Field(min_length=1)
    auth_audience: str = Field(default="hyperscale-api", min_length=1)
    auth_jwks_file: Path | None = None
    auth_jwks_url: str | None = Field(default=None, pattern=r"^https://")
    #: Product and inventory reads without a token (a public catalogue).
    auth_public_reads: bool = False

    #: /metrics is served here, on its own listener: never through the load balancer.
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9102, ge=1, le=65535)
    #: Larger request bodies are refused with 413 before they are read in full.
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _bootstrap_list(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        if not servers or any(":" not in s for s in servers):
            raise ValueError("must be host:port[,host:port...], for example 127.0.0.1:9092")
        return ",".join(servers)

    @model_validator(mode="after")
    def _one_key_source(self) -> Settings:
        if (self.auth_jwks_file is None) == (self.auth_jwks_url is None):
            raise ValueError("set exactly one of AUTH_JWKS_FILE and AUTH_JWKS_URL")
        return self

    @model_validator(mode="after")
    def _sasl_complete(self) -> Settings:
        if self.kafka_security_protocol.startswith("SASL"):
            if not (
                self.kafka_sasl_mechanism
                and self.kafka_sasl_username
                and self.kafka_sasl_password_file
            ):
                raise ValueError(
                    f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs"
                    " KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD_FILE"
                )
        elif self.kafka_sasl_mechanism or self.kafka_sasl_username:
            raise ValueError("KAFKA_SASL_* settings need a SASL KAFKA_SECURITY_PROTOCOL")
        return self

    def mysql_password(self) -> SecretStr:
        return read_secret_file(self.mysql_password_file, "MYSQL_PASSWORD_FILE")

    def redis_password(self) -> SecretStr | None:
        if self.redis_password_file is None:
            return None
        return read_secret_file(self.redis_password_file, "REDIS_PASSWORD_FILE")

    def kafka_sasl_password(self) -> SecretStr | None:
        if self.kafka_sasl_password_file is None:
            return None
        return read_secret_file(self.kafka_sasl_password_file, "KAFKA_SASL_PASSWORD_FILE")


def read_secret_file(path: Path, variable: str) -> SecretStr:
    """The first line of a secret file; errors name the variable, never the content."""
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(
            f"{variable}: cannot read {path} ({exc.strerror or exc.__class__.__name__})"
        ) from None
    if not value:
        raise ConfigurationError(f"{variable}: {path} is empty")
    return SecretStr(value)


def split_host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)
