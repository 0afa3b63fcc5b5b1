"""The local target: the API and the consumers as programs under supervisord on this machine."""

from __future__ import annotations

import hashlib
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from hyperscale.config.models import Environment
from hyperscale.config.secrets import generated_secret_path, resolve_secret
from hyperscale.context import PROJECT_ROOT, AppContext
from hyperscale.deploy.supervisor import ConfigChanges, ProgramInfo, Supervisor
from hyperscale.errors import ExternalSystemError
from hyperscale.local.process import log_tail
from hyperscale.templating import render_to_file

SERVICE_SOURCES = ("services/api", "services/consumer", "services/events")
FAILED_STATES = {"FATAL", "BACKOFF", "EXITED", "STOPPED", "UNKNOWN"}
HTTP_OK = 200
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Program:
    name: str
    command: list[str]
    environment: dict[str, str]
    address: str
    ready_url: str
    directory: str = str(PROJECT_ROOT)
    kind: str = field(default="api")


def release_fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A hash of the services' code: a new release changes the config, so programs restart."""
    digest = hashlib.sha256()
    for source in SERVICE_SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The status of a GET on a loopback service, or None if nothing answers."""
    if not url.startswith("http://127.0.0.1") and not url.startswith("http://localhost"):
        raise ExternalSystemError(f"{url}: local readiness checks only reach loopback")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback http checked above
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


class LocalPlatform:
    def __init__(self, env: Environment, app: AppContext) -> None:
        self.env = env
        self.app = app
        self.home = app.state_dir / "platform"
        self.log_dir = app.state_dir / "logs" / "platform"
        self.supervisor = Supervisor(self.home / "supervisord.conf", self.home / "supervisord.sock")

    def programs(self) -> list[Program]:
        env = self.env
        common = {
            "KAFKA_BOOTSTRAP_SERVERS": env.kafka.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": env.kafka.security.protocol,
            "ORDERS_TOPIC": env.kafka.topics.orders,
            "EVENTS_TOPIC": env.kafka.topics.events,
            "DLQ_SUFFIX": env.kafka.topics.dead_letter_suffix,
            "MYSQL_WRITER": str(env.mysql.writer),
            "MYSQL_READER": str(env.mysql.reader),
            "MYSQL_DATABASE": env.mysql.database,
            "MYSQL_USER": env.mysql.user,
            "MYSQL_PASSWORD_FILE": str(self._mysql_password_file()),
            "MYSQL_TLS": str(env.mysql.tls).lower(),
            "PLATFORM_RELEASE": release_fingerprint(),
            "PATH": os.defpath,
            "LANG": "C.UTF-8",
        }
        api = urlsplit(str(env.services.api_url))
        api_port = api.port or 80
        programs = [
            Program(
                name="api",
                command=[
                    sys.executable,
                    "-m",
                    "platform_api",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(api_port),
                ],
                environment={
                    **common,
                    "REDIS_URL": f"redis://{env.redis.endpoint}/{env.redis.db}",
                },
                address=f"http://127.0.0.1:{api_port}",
                ready_url=f"http://127.0.0.1:{api_port}/readyz",
            )
        ]
        metrics = urlsplit(str(env.services.consumer_metrics_url))
        for index in range(env.runtime.consumers):
            port = (metrics.port or 80) + index
            programs.append(
                Program(
                    name=f"consumer-{index + 1}",
                    command=[sys.executable, "-m", "platform_consumer"],
                    environment={
                        **common,
                        "CONSUMER_GROUP": env.kafka.consumer_group,
                        "CONSUMER_METRICS_HOST": "127.0.0.1",
                        "CONSUMER_METRICS_PORT": str(port),
                    },
                    address=f"http://127.0.0.1:{port}/metrics",
                    ready_url=f"http://127.0.0.1:{port}/healthz",
                    kind="consumer",
                )
            )
        return programs

    def _mysql_password_file(self) -> Path:
        """The programs read the password from a file; only its path is in their environment."""
        ref = self.env.mysql.password
        if ref.generated:
            return generated_secret_path(self.app, ref.generated)
        if ref.file:
            return Path(ref.file).expanduser()
        path = self.home / "secrets" / "mysql-password"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(resolve_secret(self.app, ref, self.env.aws))
        return path

    def apply(self, programs: list[Program]) -> ConfigChanges:
        """Render the configuration; start supervisord or hand it the changes."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        render_to_file(
            self.app,
            "local/supervisord.conf.j2",
            self.supervisor.config,
            env_name=self.env.name,
            socket=self.supervisor.socket,
            pid_file=self.home / "supervisord.pid",
            log_dir=self.log_dir,
            programs=programs,
        )
        if self.supervisor.running():
            return self.supervisor.apply_config()
        supervisord = str(Path(sys.executable).with_name("supervisord"))
        self.supervisor.start_daemon(supervisord, {"PATH": os.defpath, "LANG": "C.UTF-8"})
        return ConfigChanges(added=[p.name for p in programs], changed=[], removed=[])

    def wait_ready(self, programs: list[Program], timeout: float = READY_TIMEOUT_S) -> None:
        """Wait until every program answers its readiness URL; a dead one is named with its log."""
        deadline = time.monotonic() + timeout
        pending = {p.name: p for p in programs}
        while pending:
            infos = {i.name: i for i in self.supervisor.programs()}
            for name in list(pending):
                info = infos.get(name)
                if info is not None and info.state in FAILED_STATES:
                    raise self._failed(info, f"is {info.state}")
                running = info is not None and info.state == "RUNNING"
                if running and http_status(pending[name].ready_url) == HTTP_OK:
                    del pending[name]
            if pending and time.monotonic() > deadline:
                name = sorted(pending)[0]
                info = infos.get(name)
                if info is None:
                    raise ExternalSystemError(f"{name} is not known to supervisord")
                raise self._failed(
                    info, f"did not become ready within {timeout:g}s ({pending[name].ready_url})"
                )
            if pending:
                time.sleep(0.25)

    def _failed(self, info: ProgramInfo, what: str) -> ExternalSystemError:
        return ExternalSystemError(
            f"program {info.name} {what}; see {info.log_file}",
            details=[f"  {line}" for line in log_tail(Path(info.log_file), 12)],
        )

    def stop(self) -> bool:
        if not self.supervisor.running():
            return False
        self.supervisor.shutdown()
        return True
