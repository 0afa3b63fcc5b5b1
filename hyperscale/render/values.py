"""What the Kubernetes templates see: the environment plus the facts derived from it.

Derived here, once, rather than in Jinja: names that must agree with other code (the IRSA
role names the Terraform module creates, the Secret names the Deployments mount) and the
arithmetic of thresholds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hyperscale.config.models import (
    Endpoint,
    Environment,
    SecretRef,
    kafka_secret_name,
    service_secret_refs,
)

#: The IAM roles terraform/modules/iam-irsa creates, by service account purpose.
IRSA_ROLES = {
    "api": "platform-api",
    "consumer": "platform-consumer",
    "reports": "reports",
    "image_cleanup": "image-cleanup",
}
#: The paging threshold for API p95 latency (the issue's 500 ms); the SLO is the warning.
API_P95_PAGE_SECONDS = 0.5
DB_CONNECTIONS_RATIO = 0.9
DISK_USED_RATIO = 0.85
#: Each alert's runbook_url is this folder + its page (docs/runbooks/, one page per alert).
RUNBOOK = "https://git.hyperscale.example.com/platform/hyperscale/-/blob/main/docs/runbooks"


@dataclass(frozen=True)
class MountedSecret:
    """A Kubernetes Secret that an ExternalSecret fills from Secrets Manager."""

    name: str
    namespace: str
    source: str
    items: list[dict[str, str | None]]
    #: For a service secret: the one key, and the *_FILE variable that points at it.
    key: str = ""
    variable: str = ""


def template_values(env: Environment) -> dict[str, Any]:
    k8s = env.kubernetes
    registry = k8s.image_registry or f"{env.aws.account_id}.dkr.ecr.{env.aws.region}.amazonaws.com"
    url = urlsplit(str(env.services.api_url))
    secrets = service_secrets(env)
    return {
        "env": env,
        "k8s": k8s,
        "ns": env.target.namespace,
        "images": {
            name: f"{registry}/hyperscale/{name}:{k8s.image_tag}"
            for name in ("api", "consumer", "cli")
        },
        "irsa": {
            purpose: f"arn:aws:iam::{env.aws.account_id}:role/hyperscale-{env.name}-{role}"
            for purpose, role in IRSA_ROLES.items()
        },
        # An Ingress host must be a DNS name: an address (the sandbox's) gets a catch-all rule.
        "api": {
            "host": None if _is_address(url.hostname or "") else url.hostname,
            "tls": url.scheme == "https",
        },
        "secrets": secrets,
        "secret_users": {
            "api": ["platform-mysql", "platform-redis", kafka_secret_name(env, "api")],
            "consumer": ["platform-mysql", kafka_secret_name(env, "consumer")],
        },
        # How each service connects to Kafka; a username in its Deployment when it has its own.
        "kafka": {
            "api": env.kafka.connection("api"),
            "consumer": env.kafka.connection("consumer"),
            "per_service": env.kafka.services is not None,
        },
        "egress": egress(env),
        "load_balancer_cidrs": load_balancer_cidrs(env),
        "alerts": {
            "api_p95_slo_seconds": env.slo.api_p95_ms / 1000,
            "api_p95_page_seconds": API_P95_PAGE_SECONDS,
            "api_error_ratio": env.slo.api_error_rate_pct / 100,
            "db_connections_ratio": DB_CONNECTIONS_RATIO,
            "disk_ratio": DISK_USED_RATIO,
        },
        # One consumer per tenth of the lag SLO: ten replicas by the time the alert's level is hit.
        "lag_per_pod": max(1, env.slo.consumer_lag_messages // 10),
        "runbook": RUNBOOK,
    }


def service_secrets(env: Environment) -> list[MountedSecret]:
    """The Secrets the platform mounts, from the environment's references (never values)."""
    found = [
        MountedSecret(
            name=name,
            namespace=env.target.namespace,
            source=ref.describe(),
            items=[remote_item(env, name, key, ref)],
            key=key,
            variable=variable,
        )
        for name, key, variable, ref in service_secret_refs(env)
    ]
    receivers: list[dict[str, str | None]] = [
        {
            "key": "slack-webhook-url",
            "remote_key": f"hyperscale/{env.name}/alertmanager",
            "property": "slack_webhook_url",
        },
    ]
    if env.protected:
        receivers.append(
            {
                "key": "pagerduty-routing-key",
                "remote_key": f"hyperscale/{env.name}/alertmanager",
                "property": "pagerduty_routing_key",
            }
        )
    smtp = env.reports.email.smtp.password
    if smtp is not None and env.reports.email.smtp.username:
        receivers.append(remote_item(env, "alertmanager", "smtp-password", smtp))
    found.append(
        MountedSecret(
            name="alertmanager-receivers",
            namespace="monitoring",
            source="Alertmanager receivers' credentials",
            items=receivers,
        )
    )
    return found


def remote_item(env: Environment, name: str, key: str, ref: SecretRef) -> dict[str, str | None]:
    """Where the operator finds a secret: the AWS secret of the reference, or (for env and file
    references, which only this machine can read) the conventional hyperscale/<env>/<name>."""
    if ref.aws_secret:
        return {"key": key, "remote_key": ref.aws_secret, "property": ref.json_key}
    return {
        "key": key,
        "remote_key": f"hyperscale/{env.name}/{name.removeprefix('platform-')}",
        "property": key,
    }


def load_balancer_cidrs(env: Environment) -> list[str]:
    """The public subnets the ALB's nodes take their addresses from: the VPC module's layout
    (terraform/modules/vpc: the last quarter of the range, a quarter of that per zone,
    ``cidrsubnet(cidrsubnet(vpc, 2, 3), 2, zone_index)``). The API admits these only, not the
    whole VPC (issue 19 item 13); tests/render pins this against Terraform's own cidrsubnet."""
    zones = len(env.infra.availability_zones) if env.infra else 3
    vpc = ipaddress.ip_network(env.kubernetes.vpc_cidr)
    quarters: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = list(
        vpc.subnets(prefixlen_diff=2)
    )
    public_quarter = quarters[3]
    return [str(net) for net in list(public_quarter.subnets(prefixlen_diff=2))[:zones]]


def egress(env: Environment) -> dict[str, list[dict[str, Any]]]:
    """Each backing service's destinations for the NetworkPolicies: an IP address is itself
    (/32), a DNS name (an AWS managed endpoint) is anywhere in the VPC."""

    def destinations(endpoints: list[Endpoint]) -> list[dict[str, Any]]:
        seen: dict[tuple[str, int], None] = {}
        for e in endpoints:
            cidr = (
                str(ipaddress.ip_network(e.host))
                if _is_address(e.host)
                else env.kubernetes.vpc_cidr
            )
            seen[(cidr, e.port)] = None
        return [{"cidr": cidr, "port": port} for cidr, port in seen]

    return {
        "mysql": destinations([env.mysql.writer, env.mysql.reader]),
        "redis": destinations([env.redis.endpoint]),
        "kafka": destinations(list(env.kafka.bootstrap_servers)),
        "smtp": destinations([env.reports.email.smtp.endpoint]),
    }


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
