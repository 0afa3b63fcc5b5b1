"""The CNCF distribution registry (Debian docker-registry) on loopback: where sandbox images go."""

from __future__ import annotations

from hyperscale.config.models import Endpoint
from hyperscale.errors import ExternalSystemError
from hyperscale.local.services.base import BackingService, ProbeError, require_program
from hyperscale.templating import render_to_file


class RegistryService(BackingService):
    name = "registry"
    description = "Container registry (distribution)"
    startup_timeout = 20.0

    @property
    def endpoint(self) -> Endpoint:
        return Endpoint(host="127.0.0.1", port=self.env.runtime.registry_port)

    @property
    def config_path(self) -> str:
        return str(self.home / "config.yml")

    def install(self) -> None:
        require_program("docker-registry", "docker-registry")

    def prepare(self) -> None:
        (self.home / "data").mkdir(parents=True, exist_ok=True)
        render_to_file(
            self.app,
            "local/registry/config.yml.j2",
            self.home / "config.yml",
            host=self.endpoint.host,
            port=self.endpoint.port,
            data_dir=self.home / "data",
        )

    def command(self) -> list[str]:
        return [require_program("docker-registry", "docker-registry"), "serve", self.config_path]

    def probe(self) -> str:
        from hyperscale.clients.registry import RegistryClient

        try:
            return RegistryClient(f"http://{self.endpoint}").check()
        except ExternalSystemError as exc:
            raise ProbeError(exc.message) from None
