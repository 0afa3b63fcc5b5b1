"""Redis (Debian redis-server) on its own port, data under the state directory."""

from __future__ import annotations

import hashlib

from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Endpoint
from hyperscale.config.secrets import ensure_generated_secret
from hyperscale.errors import ExternalSystemError
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

    def _password(self) -> str | None:
        token = self.env.redis.auth_token
        return resolve_secret(self.app, token) if token is not None else None

    def prepare(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        token = self.env.redis.auth_token
        if token is not None and token.generated:
            ensure_generated_secret(self.app, token.generated)
        password = self._password()
        acl = self.home / "users.acl"
        # Only the SHA-256 of the token is written: the ACL file holds no usable secret.
        digest = hashlib.sha256(password.encode()).hexdigest() if password else None
        acl.write_text(
            f"user default on #{digest} ~* &* +@all\n"
            if digest
            else "user default on nopass ~* &* +@all\n"
        )
        render_to_file(
            self.app,
            "local/redis/redis.conf.j2",
            self.home / "redis.conf",
            host=self.endpoint.host,
            port=self.endpoint.port,
            data_dir=self.home / "data",
            acl_file=acl,
        )

    def command(self) -> list[str]:
        return [require_program("redis-server", "redis-server"), self.config_path]

    def probe(self) -> str:
        from hyperscale.clients.redis import server_version

        try:
            return f"redis {server_version(self.endpoint, self._password())}"
        except ExternalSystemError as exc:
            raise ProbeError(exc.message) from None
