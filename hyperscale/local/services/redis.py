"""Redis (Debian redis-server) on its own port, data under the state directory."""

from __future__ import annotations

from hyperscale.config.models import Endpoint
from hyperscale.local.services.base import BackingService, ProbeError, require_program
from hyperscale.templating import render_to_file


class RedisService(BackingService):
    name = "redis"
    description = "Redis cache"
    startup_timeout = 20.0

    @property
    def endpoint(self) -> Endpoint:
        return self.env.redis.endpoint

    @property
    def config_path(self) -> str:
        return str(self.home / "redis.conf")

    def install(self) -> None:
        require_program("redis-server", "redis-server")

    def prepare(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        render_to_file(
            self.app,
            "local/redis/redis.conf.j2",
            self.home / "redis.conf",
            host=self.endpoint.host,
            port=self.endpoint.port,
            data_dir=self.home / "data",
        )

    def command(self) -> list[str]:
        return [require_program("redis-server", "redis-server"), self.config_path]

    def probe(self) -> str:
        import redis

        client = redis.Redis(
            host=self.endpoint.host,
            port=self.endpoint.port,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
        try:
            client.ping()
            version = client.info("server")["redis_version"]
        except redis.RedisError as exc:
            raise ProbeError(str(exc)) from None
        finally:
            client.close()
        return f"redis {version}"
