"""What every local backing service provides: install, prepare, a command, and a real probe."""

from __future__ import annotations

import os
import shutil
import socket
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.local.process import ManagedProcess

#: What a service process inherits from the caller; everything else (AWS_*, passwords) stays out.
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR", "JAVA_HOME", "USER")


def services_root(env: Environment, app: AppContext) -> Path:
    """Where an environment's backing services keep data, pid files and logs: the state
    directory itself for `local` (as always), ``<state>/envs/<name>`` for any other local
    environment (`dr`), so two local environments never share a data directory or pid file."""
    return app.state_dir if env.name == "local" else app.state_dir / "envs" / env.name


class ProbeError(Exception):
    """The service did not answer a real request (yet)."""


class BackingService(ABC):
    name: ClassVar[str]
    description: ClassVar[str]
    #: How long a cold start may take before `local up` gives up.
    startup_timeout: ClassVar[float] = 60.0
    #: Services that must answer before this one starts (`local up` starts them too).
    requires: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def applies_to(cls, env: Environment) -> bool:
        """Whether the environment has this service at all (the replica is optional)."""
        return True

    @classmethod
    def companions(cls, env: Environment) -> tuple[str, ...]:
        """Services started with this one, in parallel, because none answers without the
        others (the nodes of a Kafka quorum); unlike ``requires``, no order between them."""
        return ()

    @classmethod
    def absent_reason(cls, env: Environment) -> str:
        """Why the environment has no such service, and how to give it one."""
        return f"environment {env.name} has no {cls.name} service"

    def __init__(self, env: Environment, app: AppContext) -> None:
        self.env = env
        self.app = app
        self.root = services_root(env, app)
        self.home = self.root / "services" / self.name
        self.process = ManagedProcess(self.name, self.root / "run", self.log_path)

    @property
    def log_path(self) -> Path:
        return self.root / "logs" / f"{self.name}.log"

    @property
    @abstractmethod
    def endpoint(self) -> Endpoint: ...

    def install(self) -> None:  # noqa: B027 - optional hook; most services need nothing
        """Make sure the programs this service needs are present (downloads go to the cache)."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Write configuration and initialise data; safe to repeat."""

    @abstractmethod
    def command(self) -> list[str]: ...

    def process_env(self) -> dict[str, str]:
        """Variables this service needs beyond the basic ones of ``launch_env``."""
        return {}

    def launch_env(self) -> dict[str, str]:
        """The whole environment of the service: the basics, never the caller's credentials."""
        environ = self.app.environ
        basics = {k: environ[k] for k in _INHERITED if k in environ}
        basics.setdefault("PATH", os.defpath)
        return {**basics, **self.process_env()}

    def endpoints(self) -> list[Endpoint]:
        """Every address the service listens on (all must be free before it starts)."""
        return [self.endpoint]

    @abstractmethod
    def probe(self) -> str:
        """Send a real request the way a client of the platform would; return a short detail."""

    def ready_probe(self) -> str:
        """The probe used while waiting for start-up (before ``after_ready`` has run)."""
        return self.probe()

    def after_ready(self) -> None:  # noqa: B027 - optional hook
        """One-time set-up that needs the running service (databases, users); idempotent."""

    def ports_in_use(self) -> list[Endpoint]:
        taken = []
        for endpoint in self.endpoints():
            try:
                with socket.create_connection((endpoint.host, endpoint.port), timeout=0.5):
                    taken.append(endpoint)
            except OSError:
                pass
        return taken

    def data_paths(self) -> dict[str, str]:
        return {"home": str(self.home), "log": str(self.log_path)}


def require_program(name: str, package: str, *candidates: str) -> str:
    """The path of a program from a Debian package, or a clear error saying how to get it."""
    for candidate in (name, *candidates):
        found = shutil.which(candidate) or (candidate if Path(candidate).is_file() else None)
        if found:
            return found
    raise ExternalSystemError(
        f"{name} is not installed (Debian package {package})",
        hint="run `make bootstrap`, or `apt-get install " + package + "`",
    )
