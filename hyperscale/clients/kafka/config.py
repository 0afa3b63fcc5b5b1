"""librdkafka settings for an environment, and the environment with other brokers (--bootstrap)."""

from __future__ import annotations

import logging
from typing import Any

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError


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


def with_bootstrap(env: Environment, bootstrap: str | None) -> Environment:
    """The environment with ``--bootstrap`` in place of its brokers (security unchanged).

    An empty value is refused rather than read as "not given". On a protected environment, or
    one whose Kafka connection carries credentials (SASL), every host named must be one of the
    environment's own brokers: its credentials and settings never go to another address.
    """
    if bootstrap is None:
        return env
    from pydantic import ValidationError

    try:
        servers = [Endpoint.model_validate(s.strip()) for s in bootstrap.split(",") if s.strip()]
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UsageError(f"--bootstrap {bootstrap!r}: {problem}") from None
    if not servers:
        raise UsageError("--bootstrap is empty", hint="give HOST:PORT[,HOST:PORT...]")
    _check_brokers_of(env, servers)
    kafka = env.kafka.model_copy(update={"bootstrap_servers": servers})
    return env.model_copy(update={"kafka": kafka})


def _check_brokers_of(env: Environment, servers: list[Endpoint]) -> None:
    security = env.kafka.security
    credentials = bool(security.sasl_mechanism or security.username or security.password)
    if not (env.protected or credentials):
        return
    own = {(e.host.lower(), e.port) for e in env.kafka.bootstrap_servers}
    foreign = [str(e) for e in servers if (e.host.lower(), e.port) not in own]
    if foreign:
        why = "its Kafka credentials" if credentials else "a protected environment's commands"
        raise UsageError(
            f"--bootstrap {','.join(foreign)} is not a broker of {env.name}:"
            f" {why} go to {env.name}'s own brokers only ({env.kafka.bootstrap})",
            hint="leave out --bootstrap, name one of those brokers, or use an environment"
            " file for that cluster",
        )
