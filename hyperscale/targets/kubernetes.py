"""The Kubernetes target: a kubeconfig context (the sandbox cluster here, EKS for staging and
prod). Deploying, reading status and rolling back on it are not built yet; each method says so
in one line instead of pretending, and nothing is changed before it does. What a deploy puts
there (the workloads, and where an operator reaches them) is known from the environment."""

from __future__ import annotations

from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.progress import Progress
from hyperscale.targets.base import Disruption, Rollout, TargetStatus, Workload, WorkloadState


class KubernetesTarget:
    kind = "kubernetes"

    def __init__(self, env: Environment, app: AppContext) -> None:
        self.env = env
        self.app = app

    @property
    def description(self) -> str:
        target = self.env.target
        return f"kubeconfig context {target.context}, namespace {target.namespace}"

    def _not_built(self, what: str) -> NoReturn:
        raise UsageError(
            f"{what} on a kubernetes target ({self.env.name}: {self.description}) is not"
            " available yet; only the local target can be deployed",
            hint=f"use --env local; `hyperscale render --env {self.env.name}` writes the"
            " manifests a GitOps controller can apply",
        )

    def referenced_images(self) -> dict[str, list[str]]:
        from hyperscale.clients.kube import referenced_images

        target = self.env.target
        default = self.app.environ.get("KUBECONFIG", "~/.kube/config")
        kubeconfig = self.app.expand_path(target.kubeconfig or default)
        return referenced_images(kubeconfig, target.context or "")

    def preflight(self) -> None:
        self._not_built("deploying")

    def workloads(self) -> list[Workload]:
        """The API and the consumers, as an operator reaches them: through the ingress and the
        consumers' service (the environment's services URLs), whatever the replica count."""
        services = self.env.services
        api = str(services.api_url).rstrip("/")
        metrics = urlsplit(str(services.consumer_metrics_url))
        consumer_health = urlunsplit((metrics.scheme, metrics.netloc, "/healthz", "", ""))
        return [
            Workload("api", "api", api, f"{api}/readyz"),
            Workload("consumer", "consumer", str(services.consumer_metrics_url), consumer_health),
        ]

    def deploy(self, progress: Progress) -> Rollout:
        self._not_built("deploying")

    def wait_ready(self, timeout: float) -> list[WorkloadState]:
        self._not_built("waiting for readiness")

    def status(self) -> TargetStatus:
        self._not_built("reading the status")

    def rollback(self, revision: str | None) -> Rollout:
        self._not_built("rolling back")

    def disrupt(self, workload: str, count: int) -> list[Disruption]:
        self._not_built("disrupting workloads")

    def stop(self) -> bool:
        self._not_built("stopping the workloads")
