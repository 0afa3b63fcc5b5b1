"""The adapter to a Kubernetes API server: connect by kubeconfig and context, read and apply."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.errors import ExternalSystemError

FIELD_MANAGER = "hyperscale"


@dataclass(frozen=True)
class NodeState:
    name: str
    zone: str | None
    ready: bool


def load_config(kubeconfig: Path, context: str) -> Any:
    """The context's lightkube SingleConfig, or an ExternalSystemError naming file and context."""
    from lightkube import ConfigError, KubeConfig

    try:
        config = KubeConfig.from_file(kubeconfig).get(context_name=context)
    except (ConfigError, OSError) as exc:
        raise ExternalSystemError(
            f"cannot use context {context!r} of kubeconfig {kubeconfig}: {exc}"
        ) from None
    if config is None:
        raise ExternalSystemError(f"kubeconfig {kubeconfig} has no context {context!r}")
    return config


class KubeClient:
    def __init__(self, kubeconfig: Path, context: str) -> None:
        from lightkube import Client

        config = load_config(kubeconfig, context)
        self.kubeconfig = kubeconfig
        self.context = context
        self.client = Client(config=config, field_manager=FIELD_MANAGER)

    def __enter__(self) -> KubeClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.client.close()

    def apply(self, obj: Any, *, force: bool = False) -> Any:
        """Server-side apply as the hyperscale field manager."""
        return self.client.apply(obj, force=force)

    def apply_node(self, name: str, labels: dict[str, str], annotations: dict[str, str]) -> None:
        """Register (or update) a Node object, server-side: how kwok's nodes come to exist."""
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.core_v1 import Node

        self.apply(Node(metadata=ObjectMeta(name=name, labels=labels, annotations=annotations)))

    def nodes(self) -> list[NodeState]:
        from lightkube.resources.core_v1 import Node

        states = []
        for node in self.client.list(Node):
            labels = node.metadata.labels or {} if node.metadata else {}
            conditions = node.status.conditions or [] if node.status else []
            ready = any(c.type == "Ready" and c.status == "True" for c in conditions)
            name = node.metadata.name if node.metadata and node.metadata.name else "?"
            states.append(NodeState(name, labels.get("topology.kubernetes.io/zone"), ready))
        return sorted(states, key=lambda n: n.name)


def server_get(base_url: str, path: str, ca_file: Path, timeout: float = 2.0) -> str:
    """An anonymous GET of a public endpoint (/readyz, /version) over verified TLS."""
    context = ssl.create_default_context(cafile=str(ca_file))
    url = f"{base_url}{path}"
    if not url.startswith("https://"):
        raise ExternalSystemError(f"{url}: the API server is reached over https only")
    try:
        with urllib.request.urlopen(url, context=context, timeout=timeout) as response:  # noqa: S310 - https checked above
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        raise ExternalSystemError(f"{url} answered {exc.code}: {exc.read()[:200]!r}") from None
    except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
        raise ExternalSystemError(f"{url}: {getattr(exc, 'reason', exc)}") from None


#: Every kind whose pods may run an image: cleanup must not delete what any of them references.
IMAGE_HOLDERS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod")


def _pod_spec_images(spec: Any) -> list[str]:
    if spec is None:
        return []
    containers = [
        *(spec.containers or []),
        *(spec.initContainers or []),
        *(getattr(spec, "ephemeralContainers", None) or []),
    ]
    return [c.image for c in containers if c.image]


def referenced_images(kubeconfig: Path, context: str) -> dict[str, list[str]]:
    """Image reference -> the objects (``Kind namespace/name``) that use it, in every namespace.

    A Pod's running image ID (a digest) counts too: a tag moved since it started does not free
    the image it runs.
    """
    import httpx2
    from lightkube import ApiError
    from lightkube.resources.apps_v1 import DaemonSet, Deployment, ReplicaSet, StatefulSet
    from lightkube.resources.batch_v1 import CronJob, Job
    from lightkube.resources.core_v1 import Pod

    found: dict[str, list[str]] = {}

    def note(kind: str, obj: Any, images: list[str]) -> None:
        where = f"{kind} {obj.metadata.namespace}/{obj.metadata.name}"
        for image in images:
            found.setdefault(image, []).append(where)

    with KubeClient(kubeconfig, context) as kube:
        try:
            for kind in (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job):
                for obj in kube.client.list(kind, namespace="*"):
                    held: Any = obj
                    note(kind.__name__, held, _pod_spec_images(held.spec.template.spec))
            for cron in kube.client.list(CronJob, namespace="*"):
                cron_spec: Any = cron.spec
                note("CronJob", cron, _pod_spec_images(cron_spec.jobTemplate.spec.template.spec))
            for pod in kube.client.list(Pod, namespace="*"):
                statuses: Any = (pod.status.containerStatuses or []) if pod.status else []
                running = [s.imageID for s in statuses if s.imageID]
                note("Pod", pod, _pod_spec_images(pod.spec) + running)
        except ApiError as exc:
            raise ExternalSystemError(
                f"cannot list workloads in context {context}: {exc.status.message}"
            ) from None
        except (httpx2.HTTPError, OSError) as exc:
            raise ExternalSystemError(
                f"cannot reach the cluster of context {context}: {exc}",
                hint="is it running? `hyperscale local cluster up` for the sandbox",
            ) from None
    return found
