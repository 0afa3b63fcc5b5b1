"""Apache Kafka as KRaft nodes (each broker + controller), run from its Maven Central jars."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import re
import shutil
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import ClassVar

from hyperscale.clients.kafka.acl_admin import AclAdmin
from hyperscale.clients.kafka.admin import cluster_summary
from hyperscale.clients.kafka.errors import KafkaCallError
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import SERVICE_NAMES, Endpoint, Environment, SecretRef
from hyperscale.config.secrets import ensure_generated_secret
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError, ExternalSystemError
from hyperscale.local.services.base import BackingService, ProbeError, require_program
from hyperscale.runner import run
from hyperscale.templating import render_to_file

MIN_JAVA = 17


class KafkaRuntime:
    """The Kafka jars, resolved by Maven from tools/kafka/pom.xml into the cache directory."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self.pom = app.tools_dir / "kafka" / "pom.xml"

    @cached_property
    def version(self) -> str:
        match = re.search(r"<kafka.version>([^<]+)</kafka.version>", self.pom.read_text())
        if not match:
            raise ExternalSystemError(f"{self.pom} does not set kafka.version")
        return match.group(1)

    @cached_property
    def libs(self) -> Path:
        digest = hashlib.sha256(self.pom.read_bytes()).hexdigest()[:12]
        return self.app.cache_dir / "kafka" / f"{self.version}-{digest}" / "libs"

    @property
    def installed(self) -> bool:
        return (self.libs / ".complete").is_file()

    def install(self) -> Path:
        """Fetch the jars once; a partial download is never mistaken for a complete one."""
        if self.installed:
            return self.libs
        self.libs.parent.mkdir(parents=True, exist_ok=True)
        with (self.libs.parent / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # two `local up` at once fetch the jars once
            if not self.installed:
                self._fetch()
        return self.libs

    def _fetch(self) -> None:
        mvn = require_program("mvn", "maven")
        staging = self.libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        run(
            [
                mvn,
                "-q",
                "-B",
                "-f",
                str(self.pom),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={staging}",
                "-DincludeScope=runtime",
            ],
            timeout=900,
            what=f"fetching Kafka {self.version} jars from Maven Central",
        )
        (staging / ".complete").write_text(self.version)
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)

    @cached_property
    def java(self) -> str:
        """The java program (JAVA_HOME's, else PATH's), checked once to be new enough."""
        home = self.app.environ.get("JAVA_HOME")
        java = (
            str(Path(home) / "bin" / "java")
            if home
            else require_program("java", "openjdk-17-jre-headless")
        )
        banner = run([java, "-version"], what="java -version").stderr
        match = re.search(r'version "(\d+)', banner)
        found = match.group(1) if match else "unknown"
        if not match or int(found) < MIN_JAVA:
            raise ExternalSystemError(
                f"Kafka needs Java {MIN_JAVA} or newer, {java} is {found}",
                hint="install openjdk-17-jre-headless or set JAVA_HOME",
            )
        return java

    def java_command(self, main_class: str, *args: str, heap_mb: int = 256) -> list[str]:
        return [
            self.java,
            f"-Xms{min(heap_mb, 256)}m",
            f"-Xmx{heap_mb}m",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            "-Dlog4j2.configurationFile="
            + str(self.app.templates_dir / "local/kafka/log4j2.properties"),
            "-cp",
            str(self.libs / "*"),
            main_class,
            *args,
        ]


@dataclass(frozen=True)
class SaslListener:
    """A node's listener for the services' own SCRAM users (``kafka.services``)."""

    host: str
    port: int
    mechanism: str


class KafkaService(BackingService):
    """KRaft node 1; with ``local.kafka_brokers`` above 1 also nodes 2 and 3 (the subclasses
    below). Every node is both broker and controller: three nodes make a three-voter quorum
    that survives the loss of any one of them, with three JVMs rather than the six (or four,
    with a single controller that would itself be the one thing not allowed to fail) that
    separate controller processes would need."""

    name = "kafka"
    description = "Apache Kafka (KRaft node 1, broker and controller)"
    startup_timeout = 90.0
    node: ClassVar[int] = 1

    def __init__(self, env: Environment, app: AppContext) -> None:
        super().__init__(env, app)
        self.runtime = KafkaRuntime(app)

    @classmethod
    def applies_to(cls, env: Environment) -> bool:
        return env.runtime.kafka_brokers >= cls.node

    @classmethod
    def absent_reason(cls, env: Environment) -> str:
        return (
            f"environment {env.name} runs {env.runtime.kafka_brokers} Kafka node(s)"
            f" (local.kafka_brokers); {cls.name} is node {cls.node}"
        )

    @classmethod
    def companions(cls, env: Environment) -> tuple[str, ...]:
        """The other nodes of the quorum: none answers until a majority runs."""
        names = [KAFKA_NODE_NAMES[n] for n in range(1, env.runtime.kafka_brokers + 1)]
        return tuple(n for n in names if n != cls.name)

    @property
    def brokers(self) -> int:
        return self.env.runtime.kafka_brokers

    @property
    def endpoint(self) -> Endpoint:
        return self.env.kafka.bootstrap_servers[self.node - 1]

    def controller_endpoint(self, node: int) -> Endpoint:
        host = self.env.kafka.bootstrap_servers[node - 1].host
        return Endpoint(host=host, port=self.env.runtime.kafka_controller_port + node - 1)

    @property
    def config_path(self) -> Path:
        return self.home / "server.properties"

    @property
    def sasl_listener(self) -> SaslListener | None:
        """Where this node lets the services log in as themselves: the node's address in
        ``kafka.services.bootstrap_servers``. None when the services share the operators'
        identity (no ``kafka.services``)."""
        access = self.env.kafka.services
        if access is None:
            return None
        if access.bootstrap_servers is None or len(access.bootstrap_servers) != self.brokers:
            raise ConfigError(
                f"kafka.services.bootstrap_servers must name {self.brokers} address(es), one"
                " per local Kafka node: the listener where the services log in",
                hint="one loopback address per node, in the order of kafka.bootstrap_servers",
            )
        if (access.protocol or self.env.kafka.security.protocol) != "SASL_PLAINTEXT":
            raise ConfigError(
                "the local brokers' services listener speaks SASL_PLAINTEXT (loopback, no TLS)",
                hint="set kafka.services.protocol: SASL_PLAINTEXT",
            )
        where = access.bootstrap_servers[self.node - 1]
        mechanism = access.sasl_mechanism or self.env.kafka.security.sasl_mechanism
        return SaslListener(where.host, where.port, str(mechanism))

    def install(self) -> None:
        self.runtime.install()
        _ = self.runtime.java

    def endpoints(self) -> list[Endpoint]:
        sasl = self.sasl_listener
        extra = [Endpoint(host=sasl.host, port=sasl.port)] if sasl else []
        return [self.endpoint, *extra, self.controller_endpoint(self.node)]

    def cluster_id(self) -> str:
        """A new id for a single node; for a quorum one id all nodes derive alike."""
        if self.brokers == 1:
            return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        seed = uuid.uuid5(uuid.NAMESPACE_URL, f"hyperscale:{self.root}:{self.env.name}")
        return base64.urlsafe_b64encode(seed.bytes).decode().rstrip("=")

    def prepare(self) -> None:
        data_dir = self.home / "data"
        controller = self.controller_endpoint(self.node)
        voters = ",".join(
            f"{n}@{e.host}:{e.port}"
            for n, e in ((n, self.controller_endpoint(n)) for n in range(1, self.brokers + 1))
        )
        render_to_file(
            self.app,
            "local/kafka/server.properties.j2",
            self.config_path,
            node_id=self.node,
            host=self.endpoint.host,
            port=self.endpoint.port,
            controller_host=controller.host,
            controller_port=controller.port,
            voters=voters if self.brokers > 1 else "",
            brokers=self.brokers,
            data_dir=data_dir,
            sasl=self.sasl_listener,
        )
        if (data_dir / "meta.properties").is_file():
            return
        quorum = ["--standalone"] if self.brokers == 1 else []
        run(
            self.runtime.java_command(
                "kafka.tools.StorageTool",
                "format",
                *quorum,
                "--cluster-id",
                self.cluster_id(),
                "--config",
                str(self.config_path),
            ),
            timeout=120,
            what="formatting the Kafka log directory",
        )

    def command(self) -> list[str]:
        heap = self.env.runtime.kafka_heap_mb
        return self.runtime.java_command("kafka.Kafka", str(self.config_path), heap_mb=heap)

    def probe(self) -> str:
        try:
            cluster = cluster_summary(str(self.endpoint))
        except KafkaCallError as exc:
            raise ProbeError(exc.failure.text) from None
        brokers = cluster.brokers
        return f"kafka {self.runtime.version}, cluster {cluster.cluster_id}, {brokers} broker(s)"

    def after_ready(self) -> None:
        """The services' SCRAM users, with their passwords (generated on first use): this
        broker keeps them itself, where MSK takes them from Secrets Manager. Their ACLs are
        `hyperscale kafka acls`' (every deploy applies them)."""
        access = self.env.kafka.services
        sasl = self.sasl_listener
        if access is None or sasl is None or self.node != 1:
            return
        passwords = {
            access.principal(s).username: self._password(access.principal(s).password)
            for s in SERVICE_NAMES
        }
        AclAdmin(self.env, self.app).upsert_scram_users(passwords, sasl.mechanism)

    def _password(self, ref: SecretRef) -> str:
        if ref.generated:
            return ensure_generated_secret(self.app, ref.generated)
        return resolve_secret(self.app, ref, self.env.aws)

    def data_paths(self) -> dict[str, str]:
        return {**super().data_paths(), "jars": str(self.runtime.libs)}


class KafkaNode2Service(KafkaService):
    name = "kafka-2"
    description = "Apache Kafka (KRaft node 2, broker and controller)"
    node = 2


class KafkaNode3Service(KafkaService):
    name = "kafka-3"
    description = "Apache Kafka (KRaft node 3, broker and controller)"
    node = 3


KAFKA_NODE_NAMES = {1: KafkaService.name, 2: KafkaNode2Service.name, 3: KafkaNode3Service.name}
