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
    """The environment with ``--bootstrap`` in place of its brokers (security unchanged)."""
    if not bootstrap:
        return env
    from pydantic import ValidationError

    try:
        servers = [Endpoint.model_validate(s.strip()) for s in bootstrap.split(",") if s.strip()]
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise UsageError(f"--bootstrap {bootstrap!r}: {problem}") from None
    if not servers:
        raise UsageError("--bootstrap is empty", hint="give HOST:PORT[,HOST:PORT...]")
    kafka = env.kafka.model_copy(update={"bootstrap_servers": servers})
    return env.model_copy(update={"kafka": kafka})
