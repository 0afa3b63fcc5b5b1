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


class KubeClient:
    def __init__(self, kubeconfig: Path, context: str) -> None:
        from lightkube import Client, ConfigError, KubeConfig

        try:
            config = KubeConfig.from_file(kubeconfig).get(context_name=context)
        except (ConfigError, OSError) as exc:
            raise ExternalSystemError(
                f"cannot use context {context!r} of kubeconfig {kubeconfig}: {exc}"
            ) from None
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
