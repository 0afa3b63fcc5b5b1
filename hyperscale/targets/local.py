"""The local target: the API and the consumers as programs under supervisord on this machine."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import threading
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hyperscale.clients.http import http_status
from hyperscale.clients.secrets import resolve_secret
from hyperscale.clients.supervisor import ProgramInfo, Supervisor
from hyperscale.clients.tokens import jwks_path
from hyperscale.config.models import LOCAL_ISSUER, Environment, SecretRef, ServiceName
from hyperscale.config.secrets import generated_secret_path
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.logfiles import log_tail
from hyperscale.progress import Progress
from hyperscale.sockets import socket_path
from hyperscale.targets.base import (
    DeployRequest,
    Disruption,
    DisruptionBudget,
    HistoryEntry,
    ObjectDiff,
    Rollout,
    TargetStatus,
    Victim,
    VictimQuery,
    Workload,
    WorkloadState,
)
from hyperscale.templating import render_to_file

SERVICE_SOURCES = ("services/api", "services/consumer", "services/events")
FAILED_STATES = {"FATAL", "BACKOFF", "EXITED", "STOPPED", "UNKNOWN"}
HTTP_OK = 200


@dataclass(frozen=True)
class Program:
    name: str
    command: list[str]
    environment: dict[str, str]
    address: str
    ready_url: str
    directory: str
    kind: str = field(default="api")


def release_fingerprint(root: Path) -> str:
    """A hash of the services' code: a new release changes the config, so programs restart."""
    digest = hashlib.sha256()
    for source in SERVICE_SOURCES:
        for path in sorted((root / source).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def loopback_status(url: str) -> int | None:
    """A local readiness check: the status of a GET on a loopback URL, None if nothing answers."""
    if not url.startswith(("http://127.0.0.1", "http://localhost")):
        raise ExternalSystemError(f"{url}: local readiness checks only reach loopback")
    return http_status(url)


#: How long a program has to exit after SIGTERM before supervisord kills its process group.
STOP_WAIT_S = 30
#: What supervisord itself may take beyond that to stop the last program and let go of its socket.
SHUTDOWN_MARGIN_S = 15


class LocalTarget:
    kind = "local"
    #: The programs run from this checkout: no manifests.
    takes_manifests = False

    def __init__(self, env: Environment, app: AppContext) -> None:
        self.env = env
        self.app = app
        self.home = app.state_dir / "platform"
        self.log_dir = app.state_dir / "logs" / "platform"
        self.supervisor = Supervisor(
            self.home / "supervisord.conf", socket_path(self.home / "supervisord.sock")
        )

    @property
    def description(self) -> str:
        return f"supervisord on this machine ({self.home})"

    def referenced_images(self) -> dict[str, list[str]]:
        """The local target runs the services from source: it pins no image."""
        return {}

    def preflight(self) -> None:
        """The local target deploys wherever the backing services run; nothing to check."""

    def workloads(self) -> list[Workload]:
        return [Workload(p.name, p.kind, p.address, p.ready_url) for p in self.programs()]

    def programs(self) -> list[Program]:
        env = self.env
        common = {
            "ORDERS_TOPIC": env.kafka.topics.orders,
            "EVENTS_TOPIC": env.kafka.topics.events,
            "DLQ_SUFFIX": env.kafka.topics.dead_letter_suffix,
            "MYSQL_WRITER": str(env.mysql.writer),
            "MYSQL_READER": str(env.mysql.reader),
            "MYSQL_DATABASE": env.mysql.database,
            "MYSQL_USER": env.mysql.user,
            "MYSQL_PASSWORD_FILE": str(self._secret_file(env.mysql.password, "mysql-password")),
            "MYSQL_TLS": str(env.mysql.tls).lower(),
            "PLATFORM_RELEASE": release_fingerprint(self.app.repo_root),
            # This checkout's services, whatever the virtualenv's editable installs point at
            # (a second worktree shares the first one's .venv).
            "PYTHONPATH": os.pathsep.join(
                str(self.app.repo_root / "services" / name)
                for name in ("api", "consumer", "events")
            ),
            "PATH": os.defpath,
            "LANG": "C.UTF-8",
        }
        directory = str(self.app.repo_root)
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
                    **self._kafka("api"),
                    "REDIS_URL": f"redis://{env.redis.endpoint}/{env.redis.db}",
                    **self._api_auth(),
                    "METRICS_HOST": "127.0.0.1",
                    "METRICS_PORT": str(self._api_metrics_port(api_port)),
                },
                address=f"http://127.0.0.1:{api_port}",
                ready_url=f"http://127.0.0.1:{api_port}/readyz",
                directory=directory,
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
                        **self._kafka("consumer"),
                        "CONSUMER_GROUP": env.kafka.consumer_group,
                        # Static membership: the program's name survives its restarts.
                        "CONSUMER_INSTANCE_ID": f"{env.kafka.consumer_group}-{index + 1}",
                        "CONSUMER_METRICS_HOST": "127.0.0.1",
                        "CONSUMER_METRICS_PORT": str(port),
                    },
                    address=f"http://127.0.0.1:{port}/metrics",
                    ready_url=f"http://127.0.0.1:{port}/healthz",
                    directory=directory,
                    kind="consumer",
                )
            )
        return programs

    def _api_auth(self) -> dict[str, str]:
        """Where the API finds the issuer's keys: the local issuer's public JWKS file (made on
        first deploy), or the OAuth2 server's jwks_uri. Public keys only; no secret."""
        auth = self.env.auth
        keys = (
            {"AUTH_JWKS_FILE": str(jwks_path(self.app, self.env.name))}
            if auth.issuer == LOCAL_ISSUER
            else {"AUTH_JWKS_URL": str(auth.jwks_url)}
        )
        return {
            "AUTH_ISSUER": auth.issuer_name(self.env.name),
            "AUTH_AUDIENCE": auth.audience,
            "AUTH_PUBLIC_READS": str(auth.public_reads).lower(),
            **keys,
        }

    def _api_metrics_port(self, api_port: int) -> int:
        url = self.env.services.api_metrics_url
        return url.port if url is not None and url.port else api_port + 1

    def _kafka(self, service: ServiceName) -> dict[str, str]:
        """How ``service`` connects to Kafka: as itself when ``kafka.services`` is set (its
        SCRAM user, the password in a file), else with the operators' settings."""
        connection = self.env.kafka.connection(service)
        found = {
            "KAFKA_BOOTSTRAP_SERVERS": connection.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": connection.protocol,
        }
        if connection.sasl_mechanism and connection.username and connection.password:
            password = self._secret_file(connection.password, f"kafka-{service}-password")
            found |= {
                "KAFKA_SASL_MECHANISM": connection.sasl_mechanism,
                "KAFKA_SASL_USERNAME": connection.username,
                "KAFKA_SASL_PASSWORD_FILE": str(password),
            }
        return found

    def _secret_file(self, ref: SecretRef, name: str) -> Path:
        """The programs read a secret from a file; only its path is in their environment."""
        if ref.generated:
            return generated_secret_path(self.app, ref.generated)
        if ref.file:
            return Path(ref.file).expanduser()
        path = self.home / "secrets" / name
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(resolve_secret(self.app, ref, self.env.aws))
        return path

    def locked(self, reason: str, command: str) -> AbstractContextManager[object]:
        """One machine, one supervisord: no lock to take."""
        return nullcontext()

    def write_config(self, programs: list[Program]) -> None:
        """supervisord's configuration for ``programs`` (rendered; no secret in it)."""
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
            stop_wait_s=STOP_WAIT_S,
        )

    def deploy(self, progress: Progress, request: DeployRequest | None = None) -> Rollout:
        """Render the configuration; start supervisord or hand it the changes."""
        programs = self.programs()
        progress("starting or updating the programs under supervisord")
        self.write_config(programs)
        if self.supervisor.running():
            changes = self.supervisor.apply_config()
            return Rollout(changes.added, changes.changed, changes.removed)
        supervisord = str(Path(sys.executable).with_name("supervisord"))
        self.supervisor.start_daemon(supervisord, {"PATH": os.defpath, "LANG": "C.UTF-8"})
        return Rollout(added=[p.name for p in programs], changed=[], removed=[])

    def wait_ready(self, timeout: float) -> list[WorkloadState]:
        """Wait until every program answers its readiness URL; a dead one is named with its log."""
        programs = self.programs()
        deadline = time.monotonic() + timeout
        pending = {p.name: p for p in programs}
        while pending:
            infos = {i.name: i for i in self.supervisor.programs()}
            for name in list(pending):
                info = infos.get(name)
                if info is not None and info.state in FAILED_STATES:
                    raise self._failed(info, f"is {info.state}")
                running = info is not None and info.state == "RUNNING"
                if running and loopback_status(pending[name].ready_url) == HTTP_OK:
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
        return self.status().workloads

    def _failed(self, info: ProgramInfo, what: str) -> ExternalSystemError:
        return ExternalSystemError(
            f"program {info.name} {what}; see {info.log_file}",
            details=[f"  {line}" for line in log_tail(Path(info.log_file), 12)],
        )

    def status(self) -> TargetStatus:
        if not self.supervisor.running():
            return TargetStatus(deployed=False, workloads=[])
        wanted = {p.name: p for p in self.programs()}
        now = time.time()
        states = []
        for info in self.supervisor.programs():
            program = wanted.get(info.name)
            running = program is not None and info.state == "RUNNING"
            code = loopback_status(program.ready_url) if program and running else None
            states.append(
                WorkloadState(
                    name=info.name,
                    state=info.state.lower(),
                    ready=code == HTTP_OK,
                    address=program.address if program else "-",
                    pid=info.pid,
                    uptime_s=round(now - info.started_at, 1)
                    if info.started_at and info.pid
                    else None,
                    detail="" if code == HTTP_OK else f"readiness answered {code or 'nothing'}",
                )
            )
        return TargetStatus(deployed=True, workloads=states)

    def rollback(
        self, revision: str | None, progress: Progress | None = None, timeout_s: float = 600.0
    ) -> Rollout:
        raise UsageError(
            f"{self.env.name} runs the services from this checkout: it keeps no earlier release"
            " to roll back to",
            hint="check out the earlier commit and run `hyperscale deploy --env"
            f" {self.env.name}` again",
        )

    def history(self) -> list[HistoryEntry]:
        raise UsageError(
            f"{self.env.name} runs the services from this checkout: it keeps no deploy history",
            hint="`git log` is its history",
        )

    def force_unlock(self, reason: str) -> str | None:
        raise UsageError(f"{self.env.name} has no deploy lock to break")

    def diff(
        self, objects: list[dict[str, Any]], progress: Progress
    ) -> tuple[list[ObjectDiff], list[str]]:
        raise UsageError(f"{self.env.name} runs from this checkout: there are no objects to diff")

    def disrupt(self, workload: str, count: int) -> list[Disruption]:
        """SIGKILL the program's process; supervisord starts a new one (autorestart)."""
        infos = {i.name: i for i in self.supervisor.programs()} if self.supervisor.running() else {}
        info = infos.get(workload)
        if info is None:
            known = ", ".join(sorted(infos)) or "none: nothing is deployed"
            raise UsageError(f"no program {workload!r} on {self.env.name}", hint=f"known: {known}")
        if info.pid is None or count < 1:
            return []
        try:
            os.kill(info.pid, signal.SIGKILL)
        except ProcessLookupError:
            return []  # it died on its own between the question and the kill
        return [Disruption(workload, f"pid {info.pid}", "SIGKILL")]

    def drill_namespace(self, requested: str | None) -> str | None:
        """Programs under supervisord live in no namespace."""
        if requested:
            raise UsageError(
                f"{self.env.name} runs programs under supervisord: there are no namespaces",
                hint="drop -n; select programs with -w NAME or -l kind=consumer",
            )
        return None

    def victims(self, query: VictimQuery) -> list[Victim]:
        """The programs ``query`` names; labels ``kind`` (api, consumer) and ``program``."""
        self.drill_namespace(query.namespace)
        wanted = _selector(query.selector)
        kinds = {p.name: p.kind for p in self.programs()}
        found = []
        for state in self.status().workloads:
            labels = {"kind": kinds.get(state.name, "?"), "program": state.name}
            if query.workload and state.name != query.workload:
                continue
            if any(labels.get(k) != v for k, v in wanted.items()) or state.pid is None:
                continue
            started = time.time() - state.uptime_s if state.uptime_s is not None else None
            found.append(
                Victim(state.name, state.name, str(state.pid), state.ready, "", started, labels)
            )
        return sorted(found, key=lambda v: v.started_at or 0.0)

    def disruption_budgets(self, namespace: str | None) -> list[DisruptionBudget]:
        return []  # supervisord restarts what dies; nothing budgets how much may die

    def kill(
        self, victim: Victim, *, force: bool, timeout_s: float, halt: threading.Event | None = None
    ) -> Disruption:
        """SIGKILL that very process (not whatever runs under the name now): nothing to wait
        for, so nothing for ``halt`` to cut short."""
        try:
            os.kill(int(victim.uid), signal.SIGKILL)
        except ProcessLookupError:
            raise ExternalSystemError(
                f"{victim.name} (pid {victim.uid}) was gone before it could be killed"
            ) from None
        return Disruption(victim.workload, f"pid {victim.uid}", "SIGKILL")

    def deploy_holder(self) -> str | None:
        return None  # one machine, one supervisord: no lock

    def stop(self) -> bool:
        if not self.supervisor.running():
            return False
        self.supervisor.shutdown(within=STOP_WAIT_S + SHUTDOWN_MARGIN_S)
        return True


def _selector(text: str | None) -> dict[str, str]:
    """``kind=consumer,program=consumer-1``; equality terms only."""
    wanted: dict[str, str] = {}
    for term in filter(None, (t.strip() for t in (text or "").split(","))):
        key, sep, value = term.partition("=")
        if not sep or not key.strip() or value.startswith("="):
            raise UsageError(
                f"-l {text}: {term!r} is not key=value",
                hint="the local target matches equality only: kind=consumer, program=api",
            )
        wanted[key.strip()] = value.strip()
    return wanted
