"""Any Kubernetes object as plain JSON: server-side apply, get, list, delete, replace, logs.

lightkube's typed models are not used here on purpose: a deploy applies what the templates
render, and a round trip through a client library's models could drop a field it does not know
(a newer API, a CRD), which would show as drift that never goes away. lightkube still does what
it is good at: reading the kubeconfig (certificates, tokens, EKS exec plugins) into an HTTP client.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.clients.kube import FIELD_MANAGER, load_config
from hyperscale.errors import ExternalSystemError

HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_TOO_MANY_REQUESTS = 429
HTTP_OK_MAX = 299


class ApiConflictError(ExternalSystemError):
    """The server refused a write because the object changed meanwhile (HTTP 409)."""


class ApiTooManyRequestsError(ExternalSystemError):
    """The server said not now (HTTP 429): an eviction a disruption budget refuses."""


@dataclass(frozen=True)
class ApiResource:
    """Where the server serves one kind: its path segment and whether it lives in a namespace."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        root = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        where = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{root}{where}/{self.plural}" + (f"/{name}" if name else "")


class KubeApi:
    """One API server, reached through a kubeconfig context; thread-safe for reads."""

    def __init__(self, kubeconfig: Path, context: str, *, timeout: float = 15.0) -> None:
        import httpx2
        from lightkube.config.client_adapter import Client, ConnectionParams

        config = load_config(kubeconfig, context)
        self.context = context
        self.server = str(config.cluster.server)
        self._http = Client(
            config, ConnectionParams(timeout=httpx2.Timeout(timeout), trust_env=False)
        )
        self._resources: dict[tuple[str, str], ApiResource | None] = {}
        self._discovered: set[str] = set()
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> KubeApi:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: Any = None,
        content_type: str = "application/json",
        missing_ok: bool = False,
    ) -> Any:
        import httpx2

        try:
            response = self._http.request(
                method,
                path,
                params=params,
                json=json_body,
                headers={"Content-Type": content_type} if json_body is not None else None,
            )
        except httpx2.HTTPError as exc:
            raise ExternalSystemError(
                f"cannot reach the API server of context {self.context} ({self.server}): {exc}",
                hint="is the cluster up? `hyperscale local cluster up` for the sandbox",
            ) from None
        if response.status_code == HTTP_NOT_FOUND and missing_ok:
            return None
        if response.status_code > HTTP_OK_MAX:
            message = _status_message(response)
            error = {
                HTTP_CONFLICT: ApiConflictError,
                HTTP_TOO_MANY_REQUESTS: ApiTooManyRequestsError,
            }.get(response.status_code, ExternalSystemError)
            raise error(f"{method.upper()} {path}: HTTP {response.status_code}: {message}")
        if response.headers.get("Content-Type", "").startswith("application/json"):
            return response.json()
        return response.text

    def resource(self, api_version: str, kind: str) -> ApiResource | None:
        """How the server serves ``kind`` of ``api_version``; None when it does not (a CRD
        that is not installed, an API the server's version lacks)."""
        key = (api_version, kind)
        with self._lock:
            if api_version not in self._discovered:
                root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
                listing = self._request("GET", root, missing_ok=True) or {}
                for item in listing.get("resources", []):
                    if "/" in item["name"]:
                        continue  # a subresource (deployments/scale)
                    self._resources[(api_version, item["kind"])] = ApiResource(
                        api_version, item["kind"], item["name"], bool(item["namespaced"])
                    )
                self._discovered.add(api_version)
            return self._resources.get(key)

    def _require(self, api_version: str, kind: str) -> ApiResource:
        found = self.resource(api_version, kind)
        if found is None:
            raise ExternalSystemError(
                f"the API server of {self.context} serves no {kind} of {api_version}"
            )
        return found

    # -- objects -------------------------------------------------------------------------------

    def apply(self, obj: dict[str, Any], *, dry_run: bool = False, force: bool = True) -> Any:
        """Server-side apply as the ``hyperscale`` field manager; the object the server holds
        (or would hold, with ``dry_run``) afterwards. ``force`` takes over fields another
        manager set (a hand edit is drift: the templates are the truth)."""
        res = self._require(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        params = {"fieldManager": FIELD_MANAGER, "force": "true" if force else "false"}
        if dry_run:
            params["dryRun"] = "All"
        return self._request(
            "PATCH",
            res.path(meta.get("namespace"), meta["name"]),
            params=params,
            json_body=obj,
            content_type="application/apply-patch+yaml",
        )

    def get(
        self, api_version: str, kind: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        res = self._require(api_version, kind)
        found: dict[str, Any] | None = self._request(
            "GET", res.path(namespace, name), missing_ok=True
        )
        return found

    def list_objects(
        self,
        api_version: str,
        kind: str,
        namespace: str | None = None,
        *,
        labels: str | None = None,
        fields: str | None = None,
    ) -> list[dict[str, Any]]:
        res = self.resource(api_version, kind)
        if res is None:
            return []
        params = {k: v for k, v in (("labelSelector", labels), ("fieldSelector", fields)) if v}
        found = self._request("GET", res.path(namespace), params=params, missing_ok=True)
        items: list[dict[str, Any]] = (found or {}).get("items", [])
        for item in items:  # a list's items carry no apiVersion/kind of their own
            item.setdefault("apiVersion", api_version)
            item.setdefault("kind", kind)
        return items

    def create(self, obj: dict[str, Any]) -> dict[str, Any]:
        res = self._require(obj["apiVersion"], obj["kind"])
        params = {"fieldManager": FIELD_MANAGER}
        created: dict[str, Any] = self._request(
            "POST", res.path(obj["metadata"].get("namespace")), params=params, json_body=obj
        )
        return created

    def replace(self, obj: dict[str, Any]) -> dict[str, Any]:
        """PUT with the object's resourceVersion: ApiConflictError when it changed meanwhile."""
        res = self._require(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        params = {"fieldManager": FIELD_MANAGER}
        replaced: dict[str, Any] = self._request(
            "PUT", res.path(meta.get("namespace"), meta["name"]), params=params, json_body=obj
        )
        return replaced

    def delete(
        self,
        api_version: str,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        resource_version: str | None = None,
        grace_seconds: int | None = None,
    ) -> bool:
        """False when it was already gone; with ``resource_version``, only that version."""
        res = self._require(api_version, kind)
        body: dict[str, Any] = {"propagationPolicy": "Background"}
        if grace_seconds is not None:
            body["gracePeriodSeconds"] = grace_seconds
        if resource_version:
            body["preconditions"] = {"resourceVersion": resource_version}
        gone = self._request("DELETE", res.path(namespace, name), json_body=body, missing_ok=True)
        return gone is not None

    def post(self, path: str, body: dict[str, Any], *, missing_ok: bool = False) -> Any:
        """POST ``body`` to ``path`` (a subresource such as a pod's eviction); None when the
        object is gone and ``missing_ok``."""
        return self._request("POST", path, json_body=body, missing_ok=missing_ok)

    def pod_log(self, namespace: str, pod: str, container: str, lines: int) -> list[str]:
        """The last lines a container wrote; empty where the node serves no logs (kwok)."""
        try:
            text = self._request(
                "GET",
                f"/api/v1/namespaces/{namespace}/pods/{pod}/log",
                params={"container": container, "tailLines": str(lines)},
                missing_ok=True,
            )
        except ExternalSystemError:
            return []
        return str(text or "").splitlines()[-lines:]


def _status_message(response: Any) -> str:
    try:
        return str(response.json().get("message") or response.text[:300])
    except ValueError:
        return str(response.text[:300])


#: The resource metrics API (metrics-server): what `kubectl top` reads.
METRICS_API = "metrics.k8s.io/v1beta1"
_CPU_UNITS: dict[str, float] = {"n": 1e-6, "u": 1e-3, "m": 1.0, "": 1000.0}
_QUANTITY = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>[A-Za-z]*)")
_MEMORY_UNITS: dict[str, float] = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "": 1,
}


@dataclass(frozen=True)
class Usage:
    """CPU and memory in use, as metrics-server last measured them."""

    cpu_millicores: float
    memory_mib: float


def node_usage(api: KubeApi, node: str) -> Usage | None:
    """A node's usage; None when no metrics API serves it (yet)."""
    if api.resource(METRICS_API, "NodeMetrics") is None:
        return None
    found = api.get(METRICS_API, "NodeMetrics", node)
    return None if found is None else summed_usage([found["usage"]])


def pod_usage(api: KubeApi) -> dict[tuple[str, str], Usage]:
    """Usage of every pod metrics-server measured, by (namespace, name); its containers summed."""
    return {
        (pod["metadata"]["namespace"], pod["metadata"]["name"]): summed_usage(
            [c["usage"] for c in pod.get("containers", [])]
        )
        for pod in api.list_objects(METRICS_API, "PodMetrics")
    }


def summed_usage(usages: list[dict[str, str]]) -> Usage:
    """The usage of several containers (or one node) as one figure."""
    cpu = sum(_scaled(u.get("cpu", "0"), _CPU_UNITS) for u in usages)
    memory = sum(_scaled(u.get("memory", "0"), _MEMORY_UNITS) for u in usages)
    return Usage(round(cpu, 1), round(memory / 2**20, 1))


def _scaled(quantity: str, units: dict[str, float]) -> float:
    """A Kubernetes quantity as metrics-server writes it (``1234567n``, ``250m``, ``2048Ki``)."""
    match = _QUANTITY.fullmatch(quantity)
    if match is None or match["unit"] not in units:
        raise ExternalSystemError(
            f"metrics-server sent a quantity this tool cannot read: {quantity!r}"
        )
    return float(match["number"]) * units[match["unit"]]
