"""The adapter to Redis (redis-py): what the toolkit asks of a Redis server."""

from __future__ import annotations

from hyperscale.config.models import Endpoint
from hyperscale.errors import ExternalSystemError


def server_version(endpoint: Endpoint, password: str | None, timeout: float = 2.0) -> str:
    """PING, then the server's version: a real request, as a client of the platform sends."""
    import redis

    client = redis.Redis(
        host=endpoint.host,
        port=endpoint.port,
        password=password,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    try:
        client.ping()
        return str(client.info("server")["redis_version"])
    except redis.RedisError as exc:
        raise ExternalSystemError(str(exc)) from None  # the caller names the service
    finally:
        client.close()
