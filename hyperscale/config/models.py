"""Typed models of an environment file. Unknown keys are errors; every value is checked."""
# Long on purpose: one model per section of an environment file, read in the file's order.

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, HttpUrl, model_validator

from hyperscale.config.base import NAME_PATTERN, STRICT
from hyperscale.config.health import HealthSettings

_EMAIL = r"^[^@\s]+@[^@\s]+$"
_CRON = r"^(\S+\s+){4}\S+$"


class Strict(BaseModel):
    model_config = STRICT


class Endpoint(Strict):
    """A ``host:port`` address; written as that string in the YAML."""

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, value: Any) -> Any:
        if isinstance(value, str):
            host, sep, port = value.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"must be host:port, for example 127.0.0.1:9092 (got {value!r})")
            return {"host": host.strip("[]"), "port": int(port)}
        return value

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(self.host)


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class SecretRef(Strict):
    """Where a secret comes from. The value itself never appears in an environment file."""

    env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    file: str | None = None
    generated: str | None = Field(default=None, pattern=NAME_PATTERN)
    aws_secret: str | None = None
    json_key: str | None = None

    @model_validator(mode="after")
    def _exactly_one_source(self) -> SecretRef:
        sources = [s for s in ("env", "file", "generated", "aws_secret") if getattr(self, s)]
        if len(sources) != 1:
            raise ValueError(
                "give exactly one of env, file, generated (local only) or aws_secret"
                f" (got {', '.join(sources) or 'none'})"
            )
        if self.json_key and not self.aws_secret:
            raise ValueError("json_key only applies to aws_secret")
        return self

    def describe(self) -> str:
        if self.env:
            return f"environment variable {self.env}"
        if self.file:
            return f"file {self.file}"
        if self.generated:
            return f"generated secret {self.generated!r}"
        return f"AWS secret {self.aws_secret}"


class Target(Strict):
    """Where the platform runs: processes on this machine, or a Kubernetes context."""

    kind: Literal["local", "kubernetes"]
    context: str | None = None
    #: A path; ``@state/`` at its start means the state directory (the sandbox's kubeconfig).
    kubeconfig: str | None = None
    namespace: str = Field(default="hyperscale", pattern=NAME_PATTERN)

    @model_validator(mode="after")
    def _context_matches_kind(self) -> Target:
        if self.kind == "kubernetes" and not self.context:
            raise ValueError("a kubernetes target needs a context (the kubeconfig context name)")
        if self.kind == "local" and (self.context or self.kubeconfig):
            raise ValueError("a local target takes no context or kubeconfig")
        return self


class Aws(Strict):
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    account_id: str = Field(pattern=r"^\d{12}$")
    #: Only for the local target: the moto endpoint that stands in for AWS.
    endpoint_url: HttpUrl | None = None


class KafkaSecurity(Strict):
    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None = None
    username: str | None = None
    password: SecretRef | None = None
    ca_file: str | None = None

    @model_validator(mode="after")
    def _sasl_complete(self) -> KafkaSecurity:
        sasl = self.protocol.startswith("SASL")
        if sasl and not self.sasl_mechanism:
            raise ValueError(f"protocol {self.protocol} needs sasl_mechanism")
        if not sasl and (self.sasl_mechanism or self.username or self.password):
            raise ValueError(
                f"sasl_mechanism, username and password need a SASL protocol, not {self.protocol}"
            )
        if self.sasl_mechanism in {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"} and not (
            self.username and self.password
        ):
            raise ValueError(f"sasl_mechanism {self.sasl_mechanism} needs username and password")
        return self


class KafkaTopics(Strict):
    orders: str = Field(default="orders", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    events: str = Field(default="marketing-events", pattern=r"^[A-Za-z0-9._-]{1,249}$")
    dead_letter_suffix: str = Field(default=".dlq", pattern=r"^[A-Za-z0-9._-]{1,20}$")


#: The platform's services, each with its own Kafka identity when ``kafka.services`` is set.
ServiceName = Literal["api", "consumer"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("api", "consumer")


SCRAM_MECHANISMS = frozenset({"SCRAM-SHA-256", "SCRAM-SHA-512"})


class KafkaPrincipal(Strict):
    """A service's own SASL/SCRAM user (on MSK, the ``AmazonMSK_`` secret that holds it)."""

    username: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$")
    password: SecretRef


class KafkaServiceAccess(Strict):
    """The identities the platform's services connect with, each granted only what it uses
    (`hyperscale kafka acls`). Without this block the services use ``kafka.security``'s."""

    #: Where the services connect; the environment's brokers when not given (a local broker
    #: also listens here, with SASL/SCRAM, beside the operators' listener).
    bootstrap_servers: list[Endpoint] | None = Field(default=None, min_length=1)
    #: The SASL protocol and mechanism; ``kafka.security``'s when not given.
    protocol: Literal["SASL_PLAINTEXT", "SASL_SSL"] | None = None
    sasl_mechanism: Literal["SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    api: KafkaPrincipal
    consumer: KafkaPrincipal

    def principal(self, service: ServiceName) -> KafkaPrincipal:
        return self.api if service == "api" else self.consumer


@dataclass(frozen=True)
class ServiceConnection:
    """How one service connects to Kafka: brokers, protocol, and (SASL) user and password."""

    bootstrap: str
    protocol: str
    sasl_mechanism: str | None
    username: str | None
    password: SecretRef | None


class Kafka(Strict):
    bootstrap_servers: list[Endpoint] = Field(min_length=1)
    security: KafkaSecurity = KafkaSecurity()
    consumer_group: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    topics: KafkaTopics = KafkaTopics()
    services: KafkaServiceAccess | None = None

    @property
    def bootstrap(self) -> str:
        return ",".join(str(e) for e in self.bootstrap_servers)

    @model_validator(mode="after")
    def _services_use_sasl(self) -> Kafka:
        access = self.services
        if access is None:
            return self
        if not (access.protocol or self.security.protocol).startswith("SASL"):
            raise ValueError(
                "kafka.services needs a SASL protocol: set kafka.services.protocol"
                f" (kafka.security.protocol is {self.security.protocol})"
            )
        if (access.sasl_mechanism or self.security.sasl_mechanism) not in SCRAM_MECHANISMS:
            raise ValueError("kafka.services needs a SCRAM sasl_mechanism")
        if access.api.username == access.consumer.username:
            raise ValueError("kafka.services: the api and the consumer need their own usernames")
        return self

    def scram_secret_names(self) -> list[str]:
        """The Secrets Manager secrets of every SCRAM user: the operators', the services'."""
        refs = [self.security.password]
        if self.services is not None:
            refs += [self.services.principal(s).password for s in SERVICE_NAMES]
        return [r.aws_secret for r in refs if r is not None and r.aws_secret]

    def connection(self, service: ServiceName) -> ServiceConnection:
        """The service's own identity when ``services`` is set, else the operators'."""
        access, security = self.services, self.security
        if access is None:
            return ServiceConnection(
                self.bootstrap,
                security.protocol,
                security.sasl_mechanism,
                security.username,
                security.password,
            )
        principal = access.principal(service)
        servers = access.bootstrap_servers or self.bootstrap_servers
        return ServiceConnection(
            ",".join(str(e) for e in servers),
            access.protocol or security.protocol,
            access.sasl_mechanism or security.sasl_mechanism,
            principal.username,
            principal.password,
        )


class MySQL(Strict):
    writer: Endpoint
    reader: Endpoint
    database: str = Field(pattern=r"^[A-Za-z0-9_]{1,64}$")
    user: str = Field(pattern=r"^[A-Za-z0-9_]{1,32}$")
    password: SecretRef
    #: TLS, always verified: the certificate chain against ``ca_file`` (the RDS CA bundle) or
    #: the system trust store, and the server's name against ``writer``/``reader``.
    tls: bool = False
    ca_file: str | None = None


class Redis(Strict):
    endpoint: Endpoint
    tls: bool = False
    auth_token: SecretRef | None = None
    db: int = Field(default=0, ge=0, le=15)


class ServiceEndpoints(Strict):
    api_url: HttpUrl
    consumer_metrics_url: HttpUrl
    #: The API's /metrics, on its own internal listener (never behind the load balancer).
    api_metrics_url: HttpUrl | None = None


#: The issuer name the local issuer signs with: ``urn:hyperscale:local:<env>``.
LOCAL_ISSUER = "local"


class Auth(Strict):
    """How clients authenticate to the API: OAuth2 bearer JWTs from ``issuer``.

    ``issuer: local`` is this machine's issuer (local and sandbox): signing keys generated under
    the state directory, tokens minted by the CLI. Any other issuer is an OAuth2/OIDC server:
    the API reads its keys at ``jwks_url``; the CLI gets tokens from ``token_url`` with the
    client-credentials grant (``client_id``, ``client_secret`` a secret reference).
    """

    issuer: str = LOCAL_ISSUER
    audience: str = Field(default="hyperscale-api", min_length=1)
    jwks_url: HttpUrl | None = None
    token_url: HttpUrl | None = None
    client_id: str | None = None
    client_secret: SecretRef | None = None
    #: Product and inventory reads without a token.
    public_reads: bool = False

    @model_validator(mode="after")
    def _issuer_complete(self) -> Auth:
        if self.issuer == LOCAL_ISSUER:
            return self
        missing = [
            name
            for name in ("jwks_url", "token_url", "client_id", "client_secret")
            if getattr(self, name) is None
        ]
        if missing:
            raise ValueError(f"an issuer other than 'local' needs {', '.join(missing)}")
        if not self.issuer.startswith("https://"):
            raise ValueError("issuer: 'local' or an https:// URL")
        return self

    def issuer_name(self, env_name: str) -> str:
        """The ``iss`` tokens carry and the API expects."""
        return f"urn:hyperscale:local:{env_name}" if self.issuer == LOCAL_ISSUER else self.issuer


class Slo(Strict):
    api_p95_ms: float = Field(default=200, gt=0)
    api_error_rate_pct: float = Field(default=1.0, ge=0, le=100)
    consumer_lag_messages: int = Field(default=10_000, ge=0)
    consumer_lag_seconds: float = Field(default=300, gt=0)


class Chaos(Strict):
    enabled: bool = False
    allowed_namespaces: list[str] = Field(default_factory=list)
    max_pods_per_drill: int = Field(default=1, ge=1)
    steady_state_timeout_s: float = Field(default=120, gt=0)
    #: ``key=value`` a pod must carry to be a drill's target (opt-in); None: any pod selected.
    opt_in_label: str | None = Field(default=None, pattern=r"^[A-Za-z0-9./_-]+=[A-Za-z0-9._-]*$")


class Smtp(Strict):
    endpoint: Endpoint
    security: Literal["none", "starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretRef | None = None


class EmailReport(Strict):
    sender: str = Field(pattern=_EMAIL)
    recipients: list[str] = Field(min_length=1)
    smtp: Smtp
    #: How `hyperscale report email` sends: through ``smtp``, or Amazon SES (SendRawEmail).
    via: Literal["smtp", "ses"] = "smtp"
    #: Five-field cron expression (minute hour day-of-month month day-of-week), UTC.
    schedule: str = Field(default="0 7 * * 1-5", pattern=_CRON)
    #: The IANA time zone the schedule is read in (the CronJob's timeZone).
    timezone: str = "Etc/UTC"

    @model_validator(mode="after")
    def _recipients_are_addresses(self) -> EmailReport:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(self.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"timezone {self.timezone!r} is not an IANA time zone (Europe/Berlin, Etc/UTC)"
            ) from None
        bad = [r for r in self.recipients if not re.match(_EMAIL, r)]
        if bad:
            raise ValueError(f"recipients must be email addresses (got {', '.join(bad)})")
        return self


class CostReport(Strict):
    granularity: Literal["DAILY", "MONTHLY"] = "DAILY"
    group_by: list[Literal["SERVICE", "LINKED_ACCOUNT", "USAGE_TYPE", "REGION"]] = ["SERVICE"]
    budget_usd: float | None = Field(default=None, gt=0)


class Reports(Strict):
    email: EmailReport
    cost: CostReport = CostReport()


_CPU = r"^\d+(\.\d+)?m?$"
_MEMORY = r"^\d+(Ki|Mi|Gi)$"


class Workload(Strict):
    """How one Kubernetes workload (API or consumer) is sized and scaled (templates/kubernetes)."""

    min_replicas: int = Field(default=3, ge=1, le=100)
    max_replicas: int = Field(default=12, ge=1, le=500)
    cpu_request: str = Field(default="250m", pattern=_CPU)
    cpu_limit: str = Field(default="1", pattern=_CPU)
    memory_request: str = Field(default="256Mi", pattern=_MEMORY)
    memory_limit: str = Field(default="512Mi", pattern=_MEMORY)
    #: How long the HPA waits before it scales in; unset, the workload's own default (the API
    #: 300 s, the consumer 600 s). A short one is for drills in the sandbox.
    scale_down_window_s: int | None = Field(default=None, ge=0, le=3600)

    @model_validator(mode="after")
    def _range(self) -> Workload:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas {self.min_replicas} exceeds max_replicas")
        return self


class KubernetesPlatform(Strict):
    """What `hyperscale render` needs beyond the rest of the file (kubernetes targets only)."""

    #: Default: the account's ECR registry in the environment's region.
    image_registry: str | None = Field(
        default=None, pattern=r"^[a-z0-9.-]+(:\d+)?(/[a-z0-9._-]+)*$"
    )
    #: Images are tagged by git sha; the committed manifests pin one.
    image_tag: str = Field(default="0.1.0", pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
    #: The VPC the data stores live in: the NetworkPolicies' egress and the ALB's source.
    vpc_cidr: str = "10.0.0.0/16"
    gitops_repo_url: str = Field(
        default="https://git.hyperscale.example.com/platform/hyperscale.git", pattern=r"^https://"
    )
    gitops_revision: str = Field(default="main", min_length=1)
    api: Workload = Workload()
    consumer: Workload = Workload(cpu_request="200m", memory_request="256Mi")
    #: Where the API and consumer pods go: any node (EKS; the sandbox's kwok nodes), or the
    #: sandbox's real node (`hyperscale local cluster up --real-node`), whose taint they then
    #: tolerate and whose label they select.
    placement: Literal["any", "real-node"] = "any"

    @model_validator(mode="after")
    def _cidr(self) -> KubernetesPlatform:
        try:
            ipaddress.ip_network(self.vpc_cidr)
        except ValueError:
            raise ValueError(
                f"vpc_cidr must be a network such as 10.0.0.0/16 (got {self.vpc_cidr!r})"
            ) from None
        return self


_INSTANCE_TYPE = r"^[a-z][a-z0-9-]*\.[a-z0-9]+$"
_CACHE_NODE_TYPE = r"^cache\.[a-z0-9]+\.[a-z0-9]+$"
_KAFKA_BROKER_TYPE = r"^kafka\.[a-z0-9]+\.[a-z0-9]+$"
_DB_INSTANCE_CLASS = r"^db\.[a-z0-9]+\.[a-z0-9]+$"
_BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"


class NodeGroup(Strict):
    """EKS managed node group sizing (one group spread over the three zones)."""

    instance_types: list[str] = Field(default=["m6i.large"], min_length=1)
    #: At least one node per zone, so every zone stays schedulable.
    min_size: int = Field(default=3, ge=3, le=450)
    desired_size: int = Field(default=3, ge=3, le=450)
    max_size: int = Field(default=9, ge=3, le=450)
    disk_size_gb: int = Field(default=50, ge=20, le=16384)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroup:
        bad = [t for t in self.instance_types if not re.match(_INSTANCE_TYPE, t)]
        if bad:
            raise ValueError(f"instance_types must look like m6i.large (got {', '.join(bad)})")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError("need min_size <= desired_size <= max_size")
        return self


class Infra(Strict):
    """What `hyperscale infra` and the Terraform roots need (AWS environments only).

    The VPC's CIDR is ``kubernetes.vpc_cidr``: one value for the network and its policies.
    """

    #: S3 bucket and DynamoDB table of the Terraform state; created once per account, outside.
    state_bucket: str = Field(pattern=_BUCKET)
    lock_table: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    availability_zones: list[str] = Field(min_length=3, max_length=3)
    eks_version: str = Field(default="1.34", pattern=r"^1\.\d{2}$")
    node_group: NodeGroup = NodeGroup()
    rds_instance_class: str = Field(default="db.r6g.large", pattern=_DB_INSTANCE_CLASS)
    rds_allocated_storage_gb: int = Field(default=100, ge=20, le=16384)
    rds_read_replicas: int = Field(default=1, ge=0, le=5)
    rds_backup_retention_days: int = Field(default=14, ge=7, le=35)
    #: Off only where the account is thrown away (local-aws), so `infra destroy` can finish.
    rds_deletion_protection: bool = True
    redis_node_type: str = Field(default="cache.r6g.large", pattern=_CACHE_NODE_TYPE)
    #: Replicas per shard in addition to the primary; Multi-AZ failover needs at least one.
    redis_replicas: int = Field(default=2, ge=1, le=5)
    kafka_version: str = Field(default="3.9.x", pattern=r"^\d+\.\d+\.(\d+|x)(\.kraft)?$")
    msk_broker_type: str = Field(default="kafka.m7g.large", pattern=_KAFKA_BROKER_TYPE)
    msk_volume_gb: int = Field(default=500, ge=1, le=16384)
    #: Host names CloudFront serves (each must be covered by the ACM certificate).
    cdn_aliases: list[str] = Field(default_factory=list)
    #: ACM certificate in us-east-1 (CloudFront requires that region) for ``cdn_aliases``.
    cdn_certificate_arn: str | None = Field(default=None, pattern=r"^arn:aws:acm:us-east-1:")
    #: Existing S3 bucket (ACLs enabled, as CloudFront standard logs need) for CDN access logs.
    log_bucket: str = Field(pattern=_BUCKET)
    #: module -> why: modules of the stack this environment does not run (only against the
    #: local AWS endpoint, for what moto cannot serve; `infra plan` prints the reason).
    excluded_modules: dict[str, str] = Field(default_factory=dict)
    #: module -> {resource address in its root: why}: resources left out of a module's plan
    #: (planned with -target on every other one), for the same reason.
    excluded_resources: dict[str, dict[str, str]] = Field(default_factory=dict)
    #: module -> {resource address: why}: resources `infra destroy` leaves standing (destroyed
    #: with -target on every other one), where the endpoint can create but not delete them.
    kept_on_destroy: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _zones_and_cdn(self) -> Infra:
        if len(set(self.availability_zones)) != len(self.availability_zones):
            raise ValueError("availability_zones must be three different zones")
        if self.cdn_aliases and not self.cdn_certificate_arn:
            raise ValueError("cdn_aliases need cdn_certificate_arn (an ACM certificate)")
        return self


class RealNode(Strict):
    """A real node beside the kwok ones: containerd and a kubelet (`cluster up --real-node`).

    Everything it keeps lives under the state directory; its ports, pod range and bridge are
    settings so that two runs on one machine never meet.
    """

    #: Start it with every `hyperscale local cluster up` (else only with --real-node).
    enabled: bool = False
    kubelet_port: int = Field(default=23250, ge=1, le=65535)
    kubelet_healthz_port: int = Field(default=23248, ge=1, le=65535)
    #: containerd's CRI streaming server (exec, attach, port-forward), on loopback.
    containerd_stream_port: int = Field(default=23010, ge=1, le=65535)
    #: kube-proxy (Services' NodePorts on the host's loopback): its health and metrics.
    kube_proxy_healthz_port: int = Field(default=23256, ge=1, le=65535)
    kube_proxy_metrics_port: int = Field(default=23249, ge=1, le=65535)
    #: The CNI bridge's range: one /24 (or smaller) inside the machine, never routed out.
    pod_cidr: str = "10.244.0.0/24"
    #: The bridge interface (at most 15 characters, Linux's limit).
    bridge: str = Field(default="hs-cni0", pattern=r"^[a-z][a-z0-9-]{0,14}$")
    max_pods: int = Field(default=30, ge=1, le=250)

    @model_validator(mode="after")
    def _private_range(self) -> RealNode:
        try:
            network = ipaddress.ip_network(self.pod_cidr)
        except ValueError as exc:
            raise ValueError(f"pod_cidr: {exc}") from None
        if not network.is_private or network.version != 4 or network.prefixlen < 16:  # noqa: PLR2004 - a /16 at most
            raise ValueError(
                f"pod_cidr: {self.pod_cidr} must be a private IPv4 range of /16 or smaller"
            )
        return self

    @property
    def ports(self) -> dict[str, int]:
        return {
            "kubelet": self.kubelet_port,
            "kubelet-healthz": self.kubelet_healthz_port,
            "containerd-stream": self.containerd_stream_port,
            "kube-proxy-healthz": self.kube_proxy_healthz_port,
            "kube-proxy-metrics": self.kube_proxy_metrics_port,
        }


class LocalCluster(Strict):
    """The sandbox Kubernetes control plane of `hyperscale local cluster up` (kwok nodes)."""

    name: str = Field(default="hyperscale-sandbox", pattern=NAME_PATTERN)
    apiserver_port: int = Field(default=16443, ge=1, le=65535)
    etcd_port: int = Field(default=12379, ge=1, le=65535)
    etcd_peer_port: int = Field(default=12380, ge=1, le=65535)
    controller_manager_port: int = Field(default=20257, ge=1, le=65535)
    scheduler_port: int = Field(default=20259, ge=1, le=65535)
    kwok_port: int = Field(default=20247, ge=1, le=65535)
    #: metrics-server (the resource metrics API: `kubectl top`, CPU-based HPAs), on loopback.
    metrics_server_port: int = Field(default=20251, ge=1, le=65535)
    #: One fake node per zone, labelled topology.kubernetes.io/zone.
    zones: list[str] = Field(
        default=["us-east-1a", "us-east-1b", "us-east-1c"], min_length=1, max_length=26
    )
    real_node: RealNode = RealNode()

    @property
    def context(self) -> str:
        """The kubeconfig context kwokctl writes for this cluster."""
        return f"kwok-{self.name}"

    @property
    def ports(self) -> dict[str, int]:
        return {
            "kube-apiserver": self.apiserver_port,
            "etcd": self.etcd_port,
            "etcd-peer": self.etcd_peer_port,
            "kube-controller-manager": self.controller_manager_port,
            "kube-scheduler": self.scheduler_port,
            "kwok-controller": self.kwok_port,
            "metrics-server": self.metrics_server_port,
        }


class LocalRuntime(Strict):
    """Settings of the backing services that `hyperscale local up` starts (local target only)."""

    kafka_controller_port: int = Field(default=19093, ge=1, le=65535)
    kafka_heap_mb: int = Field(default=512, ge=128, le=8192)
    #: KRaft nodes, each broker and controller (node i on kafka.bootstrap_servers[i-1] and
    #: controller port kafka_controller_port + i - 1): 3 to drill replication (`dr` env).
    kafka_brokers: int = Field(default=1, ge=1, le=3)
    #: The container registry `hyperscale local up registry` starts (loopback, plain HTTP).
    registry_port: int = Field(default=15500, ge=1, le=65535)
    #: Consumer processes `hyperscale deploy` runs (each its own group member and metrics port).
    consumers: int = Field(default=2, ge=1, le=16)
    cluster: LocalCluster = LocalCluster()


class Environment(Strict):
    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    #: A protected environment (prod) makes destructive commands ask for --yes.
    protected: bool = False
    target: Target
    aws: Aws
    kafka: Kafka
    mysql: MySQL
    redis: Redis
    services: ServiceEndpoints
    auth: Auth = Auth()
    slo: Slo = Slo()
    chaos: Chaos = Chaos()
    reports: Reports
    local: LocalRuntime | None = None
    kubernetes: KubernetesPlatform = KubernetesPlatform()
    #: The Terraform roots' settings; only environments with a real AWS account have it.
    infra: Infra | None = None
    #: How `hyperscale health` judges endpoints, and endpoints beyond the workloads.
    health: HealthSettings = HealthSettings()

    @model_validator(mode="after")
    def _target_rules(self) -> Environment:
        # Cross-field rules: each problem is "key: what is wrong", so the loader can point at
        # the line of that key rather than at the top of the file.
        problems = _local_problems(self) if self.target.kind == "local" else _remote_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def runtime(self) -> LocalRuntime:
        return self.local or LocalRuntime()


def _secrets(env: Environment) -> dict[str, SecretRef | None]:
    return {
        "mysql.password": env.mysql.password,
        "redis.auth_token": env.redis.auth_token,
        "kafka.security.password": env.kafka.security.password,
        "reports.email.smtp.password": env.reports.email.smtp.password,
        "auth.client_secret": env.auth.client_secret,
    }


def _remote_problems(env: Environment) -> list[str]:
    problems = [
        f"{key}: generated secrets exist only for the local target; use env, file or aws_secret"
        for key, ref in _secrets(env).items()
        if ref is not None and ref.generated
    ]
    if env.local is not None:
        problems.append("local: applies only to the local target")
    problems += [
        f"infra.availability_zones: {zone} is not in aws.region {env.aws.region}"
        for zone in (env.infra.availability_zones if env.infra else [])
        if not zone.startswith(env.aws.region)
    ]
    if env.aws.endpoint_url is not None:
        problems.append("aws.endpoint_url: the moto endpoint applies only to the local target")
    problems += [
        f"infra.{key}: only an environment on the local AWS endpoint leaves parts of the"
        " stack out (a real account runs all of it)"
        for key in ("excluded_modules", "excluded_resources", "kept_on_destroy")
        if env.infra is not None and getattr(env.infra, key)
    ]
    if env.infra is not None and not env.infra.rds_deletion_protection:
        problems.append(
            "infra.rds_deletion_protection: off only on the local AWS endpoint (a real"
            " database is deleted by a reviewed change that turns it off first)"
        )
    return problems


def _local_problems(env: Environment) -> list[str]:
    endpoints = {
        **{f"kafka.bootstrap_servers.{i}": e for i, e in enumerate(env.kafka.bootstrap_servers)},
        "mysql.writer": env.mysql.writer,
        "mysql.reader": env.mysql.reader,
        "redis.endpoint": env.redis.endpoint,
        "reports.email.smtp.endpoint": env.reports.email.smtp.endpoint,
    }
    problems = [
        f"{key}: a local target binds only to loopback (got {endpoint})"
        for key, endpoint in endpoints.items()
        if not endpoint.is_loopback
    ]
    if env.aws.endpoint_url is None:
        problems.append("aws.endpoint_url: a local target needs the moto endpoint")
    # A local target with `infra:` (local-aws) applies the Terraform stack to the moto
    # endpoint: its VPC range is kubernetes.vpc_cidr, and its secrets may live in moto.
    problems += [
        f"infra.availability_zones: {zone} is not in aws.region {env.aws.region}"
        for zone in (env.infra.availability_zones if env.infra else [])
        if not zone.startswith(env.aws.region)
    ]
    if "kubernetes" in env.model_fields_set and env.infra is None:
        problems.append("kubernetes: applies only to a kubernetes target (`hyperscale render`)")
    reader, writer = env.mysql.reader, env.mysql.writer
    if reader != writer and reader.port == writer.port:
        problems.append(
            "mysql.reader: the local replica needs a port of its own (or make mysql.reader"
            " equal mysql.writer for no replica)"
        )
    if env.kafka.security.protocol != "PLAINTEXT":
        problems.append("kafka.security.protocol: the local broker speaks PLAINTEXT only")
    if len(env.kafka.bootstrap_servers) < env.runtime.kafka_brokers:
        problems.append(
            f"kafka.bootstrap_servers: local.kafka_brokers is {env.runtime.kafka_brokers};"
            " list one address per broker"
        )
    problems += [
        f"{key}: a local target uses generated secrets ({{generated: NAME}}) or none"
        for key, ref in _secrets(env).items()
        if ref is not None
        and not ref.generated
        and key != "mysql.password"
        and not (ref.aws_secret and env.infra is not None)
    ]
    return problems


def service_secret_refs(env: Environment) -> list[tuple[str, str, str, SecretRef]]:
    """The Secrets the platform's pods mount: (Secret name, key, the *_FILE variable naming the
    mounted file, the environment's reference), for each reference the environment sets."""
    wanted: list[tuple[str, str, str, SecretRef | None]] = [
        ("platform-mysql", "password", "MYSQL_PASSWORD_FILE", env.mysql.password),
        ("platform-redis", "auth-token", "REDIS_PASSWORD_FILE", env.redis.auth_token),
        *(
            (kafka_secret_name(env, service), "sasl-password", "KAFKA_SASL_PASSWORD_FILE", ref)
            for service, ref in _kafka_passwords(env).items()
        ),
    ]
    return [(name, key, variable, ref) for name, key, variable, ref in wanted if ref is not None]


def kafka_secret_name(env: Environment, service: ServiceName) -> str:
    """The Secret holding a service's Kafka password: its own with ``kafka.services``, else
    the one both services share (the operators' identity)."""
    return f"platform-kafka-{service}" if env.kafka.services else "platform-kafka"


def _kafka_passwords(env: Environment) -> dict[ServiceName, SecretRef]:
    """The Kafka password each service mounts (one entry when they share the operators')."""
    if env.kafka.services is None:
        ref = env.kafka.security.password
        return {} if ref is None else {"api": ref}
    return {s: env.kafka.services.principal(s).password for s in SERVICE_NAMES}
