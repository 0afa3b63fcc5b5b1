"""Bring the sandbox cluster up (build, start, zoned nodes), down, and report on it."""

from __future__ import annotations

import json
import time

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from hyperscale.clients.kube import KubeClient, NodeState, server_get
from hyperscale.clients.kube_api import KubeApi
from hyperscale.config.models import Environment, LocalCluster
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.local.cluster.kwokctl import Kwokctl
from hyperscale.local.cluster.node_results import RealNodeDown, RealNodeState
from hyperscale.local.cluster.realnode import RealNode
from hyperscale.local.cluster.results import ClusterDownResult, ClusterResult
from hyperscale.progress import Progress, quiet
from hyperscale.targets import require_local

#: How long nodes may take to turn Ready after the control plane answers.
NODES_READY_TIMEOUT_S = 60.0


def cluster_settings(env: Environment, app: AppContext) -> LocalCluster:
    require_local(
        env,
        app,
        "the sandbox cluster is set up by the local environment",
        hint="use --env local (environments/sandbox.yaml then targets the cluster)",
    )
    return env.runtime.cluster


def up(
    env: Environment, app: AppContext, progress: Progress = quiet, *, real_node: bool = False
) -> ClusterResult:
    """The control plane and kwok's zoned nodes; with ``real_node`` (or the environment's
    ``local.cluster.real_node.enabled``) the real node too."""
    cluster = cluster_settings(env, app)
    real_node = real_node or cluster.real_node.enabled
    kwok = Kwokctl(app, cluster)
    started = time.monotonic()
    progress("building the Kubernetes binaries if needed (first time: about 5 minutes)")
    _ = kwok.bin_dir
    if kwok.exists and not kwok.stages_current:
        progress("the cluster predates the sandbox's failure stages: creating it again")
        kwok.delete()
    components = kwok.components()
    if all(c.running for c in components):
        action = "reused"
    elif kwok.exists:
        progress("starting the existing cluster")
        kwok.start()
        action = "started"
    else:
        progress("creating the cluster (certificates, etcd, control plane, kwok)")
        kwok.create()
        action = "created"
    _wait_ready(kwok)
    progress(f"registering {len(cluster.zones)} nodes, one per zone")
    with KubeClient(kwok.kubeconfig, cluster.context) as client:
        ensure_nodes(client, cluster)
        nodes = _wait_nodes_ready(client, len(cluster.zones))
    node_state = None
    if real_node:
        node = RealNode(app, cluster, kwok.bin_dir)
        progress(f"starting the real node {node.name} (containerd and the kubelet)")
        with KubeApi(kwok.kubeconfig, cluster.context) as api:
            node.up(
                server=f"https://127.0.0.1:{cluster.apiserver_port}",
                ca_cert=kwok.ca_file,
                ca_key=kwok.cluster_dir / "pki" / "ca.key",
                registry=f"127.0.0.1:{env.runtime.registry_port}",
                loopback_ports=backing_service_ports(env),
                api=api,
            )
            node_state = node.state(api)
        with KubeClient(kwok.kubeconfig, cluster.context) as client:
            nodes = client.nodes()
    return _result(kwok, action, nodes, time.monotonic() - started, node_state)


def backing_service_ports(env: Environment) -> list[int]:
    """The local backing services a pod on the real node reaches at its own 127.0.0.1: Kafka's
    brokers (whose metadata names 127.0.0.1) on the services' own listeners too, MariaDB
    writer and reader, Redis."""
    services = env.kafka.services
    endpoints = [
        *env.kafka.bootstrap_servers,
        *(services.bootstrap_servers or [] if services else []),
        env.mysql.writer,
        env.mysql.reader,
    ]
    endpoints.append(env.redis.endpoint)
    return sorted({e.port for e in endpoints if e.is_loopback})


def ensure_nodes(client: KubeClient, cluster: LocalCluster) -> None:
    """One kwok-managed node per zone, applied server-side (idempotent)."""
    region = cluster.zones[0][:-1]
    for zone in cluster.zones:
        name = f"{cluster.name}-{zone}"
        client.apply_node(
            name,
            labels={
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "node.kubernetes.io/instance-type": "kwok.large",
                "topology.kubernetes.io/region": region,
                "topology.kubernetes.io/zone": zone,
            },
            annotations={"kwok.x-k8s.io/node": "fake"},
        )


def _wait_ready(kwok: Kwokctl) -> None:
    base = f"https://127.0.0.1:{kwok.cluster.apiserver_port}"

    def ready() -> None:
        server_get(base, "/readyz", kwok.ca_file)

    try:
        Retrying(
            retry=retry_if_exception_type(ExternalSystemError),
            stop=stop_after_delay(60),
            wait=wait_fixed(0.5),
        )(ready)
    except RetryError as exc:
        raise ExternalSystemError(
            f"the sandbox API server did not become ready: {exc.last_attempt.exception()}",
            hint=f"see the logs in {kwok.cluster_dir / 'logs'}",
        ) from None


def _wait_nodes_ready(client: KubeClient, expected: int) -> list[NodeState]:
    deadline = time.monotonic() + NODES_READY_TIMEOUT_S
    while True:
        nodes = client.nodes()
        if sum(n.ready for n in nodes) >= expected or time.monotonic() > deadline:
            return nodes
        time.sleep(0.5)


def down(env: Environment, app: AppContext, *, delete: bool = False) -> ClusterDownResult:
    """The real node first (its pods drained while the API server still answers), then the
    control plane."""
    kwok = Kwokctl(app, cluster_settings(env, app))
    node_down = _real_node_down(kwok)
    if not kwok.exists:
        return ClusterDownResult(kwok.cluster.name, "absent", node_down)
    if delete:
        kwok.delete()
        return ClusterDownResult(kwok.cluster.name, "deleted", node_down)
    if not any(c.running for c in kwok.components()):
        return ClusterDownResult(kwok.cluster.name, "already stopped", node_down)
    kwok.stop()
    return ClusterDownResult(kwok.cluster.name, "stopped", node_down)


def _real_node_down(kwok: Kwokctl) -> RealNodeDown | None:
    if not RealNode(kwok.app, kwok.cluster, None).exists:
        return None
    node = RealNode(kwok.app, kwok.cluster, kwok.bin_dir)  # kube-proxy cleans up after itself
    if kwok.exists and all(c.running for c in kwok.components()):
        try:
            with KubeApi(kwok.kubeconfig, kwok.cluster.context) as api:
                return node.down(api)
        except ExternalSystemError:
            pass  # the API server does not answer: the node goes down without draining
    return node.down(None)


def real_node_state(kwok: Kwokctl) -> RealNodeState | None:
    """The real node's processes, registration and pods; None when it was never started."""
    node = RealNode(kwok.app, kwok.cluster, None)
    if not node.exists:
        return None
    try:
        with KubeApi(kwok.kubeconfig, kwok.cluster.context) as api:
            return node.state(api)
    except ExternalSystemError:
        return node.state(None)


def status(env: Environment, app: AppContext) -> ClusterResult:
    kwok = Kwokctl(app, cluster_settings(env, app))
    if not kwok.exists:
        return _result(kwok, "absent", [], 0.0)
    nodes: list[NodeState] = []
    node_state = None
    if all(c.running for c in kwok.components()):
        try:
            with KubeClient(kwok.kubeconfig, kwok.cluster.context) as client:
                nodes = client.nodes()
        except Exception:  # noqa: BLE001 - status reports an unreachable server, it does not fail
            nodes = []
        node_state = real_node_state(kwok)
    elif RealNode(app, kwok.cluster, None).exists:
        node_state = RealNode(app, kwok.cluster, None).state(None)
    return _result(kwok, "status", nodes, 0.0, node_state)


def _result(
    kwok: Kwokctl,
    action: str,
    nodes: list[NodeState],
    seconds: float,
    real_node: RealNodeState | None = None,
) -> ClusterResult:
    version = None
    if kwok.exists:
        base = f"https://127.0.0.1:{kwok.cluster.apiserver_port}"
        try:
            version = json.loads(server_get(base, "/version", kwok.ca_file))["gitVersion"]
        except (ExternalSystemError, ValueError, KeyError):
            version = None
    return ClusterResult(
        name=kwok.cluster.name,
        action=action,
        api_server=f"https://127.0.0.1:{kwok.cluster.apiserver_port}",
        server_version=version,
        kubeconfig=str(kwok.kubeconfig),
        context=kwok.cluster.context,
        components=kwok.components() if kwok.exists else [],
        nodes=nodes,
        expected_nodes=len(kwok.cluster.zones),
        seconds=round(seconds, 2),
        logs=str(kwok.cluster_dir / "logs"),
        real_node=real_node,
    )


def real_node_down(env: Environment, app: AppContext) -> RealNodeDown | None:
    """Only the real node down (the control plane and kwok's nodes stay); None if never up."""
    return _real_node_down(Kwokctl(app, cluster_settings(env, app)))
