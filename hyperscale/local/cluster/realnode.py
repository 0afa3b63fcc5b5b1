"""The sandbox's real node: containerd and a kubelet as local processes, registered beside kwok's.

Up: configuration and credentials under ``<state>/cluster/node``, containerd, the sandbox image
imported, the kubelet, then a wait for the node to turn Ready. Down takes everything away again
and says what it found left: pods drained by the kubelet itself (so CNI releases their
addresses), the kubelet stopped, any container left killed and deleted through containerd,
containerd stopped, every mount under the node's directory unmounted, the bridge deleted.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil

from hyperscale.clients.kube_api import KubeApi, Usage, node_usage, pod_usage
from hyperscale.config.models import LocalCluster
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.local.cluster import node_files, realnode_network
from hyperscale.local.cluster.node_files import REAL_NODE_LABEL, NodeLayout, node_name
from hyperscale.local.cluster.node_results import PodOnNode, RealNodeDown, RealNodeState
from hyperscale.local.process import ManagedProcess
from hyperscale.runner import run

#: The kubelet registers and reports Ready within seconds; pulls happen later, per pod.
NODE_READY_TIMEOUT_S = 90.0
#: How long down waits for the kubelet to stop the node's pods before it stops them itself.
DRAIN_TIMEOUT_S = 45.0
CRI_NAMESPACE = "k8s.io"
HTTP_OK = 200


class RealNode:
    """One real node of the sandbox cluster; all its state is under ``<state>/cluster/node``."""

    def __init__(self, app: AppContext, cluster: LocalCluster, bin_dir: Path | None) -> None:
        self.app = app
        self.cluster = cluster
        self.settings = cluster.real_node
        self.name = node_name(cluster)
        self.layout = NodeLayout(app.state_dir / "cluster" / "node")
        self.bin_dir = bin_dir
        self.containerd = ManagedProcess(
            "containerd", self.layout.run_dir, self.layout.logs / "containerd.log"
        )
        self.kubelet = ManagedProcess(
            "kubelet", self.layout.run_dir, self.layout.logs / "kubelet.log"
        )
        self.kube_proxy = ManagedProcess(
            "kube-proxy", self.layout.run_dir, self.layout.logs / "kube-proxy.log"
        )

    @property
    def _saved_route_localnet(self) -> Path:
        return self.layout.run_dir / "route_localnet.before"

    @property
    def exists(self) -> bool:
        return self.layout.home.is_dir()

    # -- up ------------------------------------------------------------------------------------

    def up(
        self,
        *,
        server: str,
        ca_cert: Path,
        ca_key: Path,
        registry: str,
        loopback_ports: list[int],
        api: KubeApi,
    ) -> None:
        """``loopback_ports``: the host's 127.0.0.1 ports pods reach at their own 127.0.0.1
        (the backing services)."""
        node_files.require_tools()
        realnode_network.require_iptables()
        if self.bin_dir is None:
            raise ExternalSystemError("the real node's binaries were not built")
        layout = self.layout
        layout.home.mkdir(parents=True, exist_ok=True)
        reference, archive = node_files.sandbox_image_archive(
            self.bin_dir / "pause", layout.home / "images"
        )
        node_files.write_credentials(layout, self.name, ca_cert, ca_key)
        node_files.write_configs(
            self.app,
            self.cluster,
            layout,
            server=server,
            sandbox_image=reference,
            registry=registry,
            loopback_ports=loopback_ports,
        )
        realnode_network.install_plugins(layout.cni_bin, node_files.CNI_BIN_DIR)
        realnode_network.ensure(self.settings, loopback_ports)
        with self.containerd.lock():
            if self.containerd.running() is None:
                self.containerd.start(
                    ["containerd", "--config", str(layout.containerd_config)],
                    env=_process_env(layout.home),
                )
        self._wait_containerd()
        if reference not in self._ctr("images", "ls", "-q").split():
            self._ctr("images", "import", str(archive), timeout=120)
        with self.kubelet.lock():
            if self.kubelet.running() is None:
                self.kubelet.start(self._kubelet_argv(), env=_process_env(layout.home))
        with self.kube_proxy.lock():
            if self.kube_proxy.running() is None:
                realnode_network.remember_route_localnet(self._saved_route_localnet)
                self.kube_proxy.start(
                    [str(self.bin_dir / "kube-proxy"), f"--config={layout.kube_proxy_config}"],
                    env=_process_env(layout.home),
                )
        self.wait_ready(api)
        self._wait_kube_proxy()

    def _kubelet_argv(self) -> list[str]:
        assert self.bin_dir is not None  # noqa: S101 - checked by up()
        layout = self.layout
        zone = self.cluster.zones[0]
        labels = {
            REAL_NODE_LABEL: "real",
            "topology.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": zone[:-1],
        }
        return [
            str(self.bin_dir / "kubelet"),
            f"--config={layout.kubelet_config}",
            f"--kubeconfig={layout.kubeconfig}",
            f"--root-dir={layout.kubelet_root}",
            f"--cert-dir={layout.pki}",
            f"--hostname-override={self.name}",
            f"--node-ip={node_files.node_address(self.cluster)}",
            "--node-labels=" + ",".join(f"{k}={v}" for k, v in labels.items()),
            "--v=1",
        ]

    def _wait_containerd(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.containerd.running() is None:
                raise ExternalSystemError(
                    "containerd exited at start: " + " | ".join(self.containerd.log_tail(3)),
                    hint=f"see {self.containerd.log_path}",
                )
            if self.layout.socket.exists():
                with contextlib.suppress(ExternalSystemError):
                    self._ctr("version", timeout=5)
                    return
            if time.monotonic() > deadline:
                raise ExternalSystemError(
                    f"containerd did not answer on {self.layout.socket} within {timeout:g}s",
                    hint=f"see {self.containerd.log_path}",
                )
            time.sleep(0.2)

    def _wait_kube_proxy(self, timeout: float = 60.0) -> None:
        """Its /healthz answers 200 once it has synced the Services' rules."""
        url = f"http://127.0.0.1:{self.settings.kube_proxy_healthz_port}/healthz"
        deadline = time.monotonic() + timeout
        while True:
            if self.kube_proxy.running() is None:
                raise ExternalSystemError(
                    "kube-proxy exited: " + " | ".join(self.kube_proxy.log_tail(3)),
                    hint=f"see {self.kube_proxy.log_path}",
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(url, timeout=2) as answer,
            ):
                if answer.status == HTTP_OK:
                    return
            if time.monotonic() > deadline:
                raise ExternalSystemError(
                    f"kube-proxy was not healthy within {timeout:g}s",
                    hint=f"see {self.kube_proxy.log_path}",
                )
            time.sleep(0.5)

    def wait_ready(self, api: KubeApi, timeout: float = NODE_READY_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        while not _node_ready(api.get("v1", "Node", self.name)):
            if self.kubelet.running() is None:
                raise ExternalSystemError(
                    "the kubelet exited: " + " | ".join(self.kubelet.log_tail(3)),
                    hint=f"see {self.kubelet.log_path}",
                )
            if time.monotonic() > deadline:
                raise ExternalSystemError(
                    f"node {self.name} did not turn Ready within {timeout:g}s",
                    hint=f"see {self.kubelet.log_path}",
                )
            time.sleep(0.5)

    # -- status --------------------------------------------------------------------------------

    def state(self, api: KubeApi | None) -> RealNodeState:
        containerd, kubelet = self.containerd.running(), self.kubelet.running()
        proxy = self.kube_proxy.running()
        node = pods = usage = None
        if api is not None:
            with contextlib.suppress(ExternalSystemError):
                node = api.get("v1", "Node", self.name)
                pods = self.pods(api)
            with contextlib.suppress(ExternalSystemError):  # metrics-server not answering yet
                usage = node_usage(api, self.name)
                pods = self._with_usage(pods or [], pod_usage(api))
        info = (node or {}).get("status", {}).get("nodeInfo", {})
        return RealNodeState(
            name=self.name,
            containerd_pid=containerd.pid if containerd else None,
            kubelet_pid=kubelet.pid if kubelet else None,
            kube_proxy_pid=proxy.pid if proxy else None,
            registered=node is not None,
            ready=_node_ready(node) and kubelet is not None,
            kubelet_version=info.get("kubeletVersion"),
            pods=pods or [],
            logs=str(self.layout.logs),
            usage=usage,
        )

    @staticmethod
    def _with_usage(pods: list[PodOnNode], usage: dict[tuple[str, str], Usage]) -> list[PodOnNode]:
        return [dataclasses.replace(p, usage=usage.get((p.namespace, p.name))) for p in pods]

    def pods(self, api: KubeApi) -> list[PodOnNode]:
        found = []
        for pod in api.list_objects("v1", "Pod", fields=f"spec.nodeName={self.name}"):
            status = pod.get("status", {})
            statuses = status.get("containerStatuses") or []
            found.append(
                PodOnNode(
                    namespace=pod["metadata"]["namespace"],
                    name=pod["metadata"]["name"],
                    phase=status.get("phase", "Unknown"),
                    ready=any(
                        c.get("type") == "Ready" and c.get("status") == "True"
                        for c in status.get("conditions") or []
                    ),
                    restarts=sum(int(s.get("restartCount", 0)) for s in statuses),
                    ip=status.get("podIP"),
                )
            )
        return sorted(found, key=lambda p: (p.namespace, p.name))

    # -- down ----------------------------------------------------------------------------------

    def down(self, api: KubeApi | None) -> RealNodeDown:
        drained = self._drain(api) if api is not None and self.kubelet.running() else 0
        # Set when this node's kube-proxy started: only then are KUBE-* rules ours to remove.
        proxied = self._saved_route_localnet.exists()
        self.kubelet.stop(timeout=20)
        if self.kube_proxy.stop(timeout=20) and proxied and self.bin_dir is not None:
            # Its Services' rules stay in the kernel when it stops: its own clean-up removes them.
            run(
                [str(self.bin_dir / "kube-proxy"), "--cleanup"],
                check=False,
                timeout=60,
                what="kube-proxy --cleanup",
            )
        if proxied:
            realnode_network.remove_kube_proxy_leftovers(self._saved_route_localnet)
        removed = self._remove_containers() if self.containerd.running() else 0
        self.containerd.stop(timeout=20)
        self._kill_shims()
        mounts = self._unmount_all()
        bridge = realnode_network.remove(self.settings)
        if api is not None:
            with contextlib.suppress(ExternalSystemError):
                api.delete("v1", "Node", self.name)
        return RealNodeDown(
            name=self.name,
            pods_drained=drained,
            containers_removed=removed,
            mounts_removed=mounts,
            bridge_deleted=bridge,
            left_containers=[str(p) for p in self._shim_pids()],
            left_mounts=self.mounts(),
            left_interfaces=self.interfaces(),
            left_rules=realnode_network.chains_left(self.settings, kube_proxy=proxied),
        )

    def _drain(self, api: KubeApi) -> int:
        """Cordon, delete the node's pods and let the kubelet stop them: CNI gives their
        addresses back and tears their interfaces down, which a kill from outside would not."""
        try:
            api.apply(
                {
                    "apiVersion": "v1",
                    "kind": "Node",
                    "metadata": {"name": self.name},
                    "spec": {"unschedulable": True},
                }
            )
            pods = self.pods(api)
            for pod in pods:
                api.delete("v1", "Pod", pod.name, pod.namespace, grace_seconds=5)
        except ExternalSystemError:
            return 0
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                left = self.pods(api)
                tasks = self._ctr("tasks", "ls", "-q").split()
            except ExternalSystemError:
                break
            if not left and not tasks:
                break
            time.sleep(0.5)
        return len(pods)

    def _ctr(self, *args: str, timeout: float = 30) -> str:
        return run(
            ["ctr", "--address", str(self.layout.socket), "--namespace", CRI_NAMESPACE, *args],
            timeout=timeout,
            what=f"ctr {' '.join(args[:2])}",
        ).stdout

    def _remove_containers(self) -> int:
        """Whatever the kubelet left: kill its task, delete task and container."""
        try:
            containers = self._ctr("containers", "ls", "-q").split()
        except ExternalSystemError:
            return 0
        for container in containers:
            with contextlib.suppress(ExternalSystemError):
                self._ctr("tasks", "kill", "--signal", "SIGKILL", container)
            for _ in range(20):
                try:
                    self._ctr("tasks", "delete", container)
                    break
                except ExternalSystemError as exc:
                    if "not found" in str(exc):
                        break
                    time.sleep(0.25)
            with contextlib.suppress(ExternalSystemError):
                self._ctr("containers", "delete", container)
        return len(containers)

    def _shim_pids(self) -> list[int]:
        """containerd's shims for this node's containerd (their command line names its socket)."""
        socket = str(self.layout.socket)
        found = []
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmdline = proc.info.get("cmdline") or []
            if cmdline and "containerd-shim" in cmdline[0] and socket in cmdline:
                found.append(int(proc.info["pid"]))
        return found

    def _kill_shims(self) -> None:
        for pid in self._shim_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self._shim_pids() and time.monotonic() < deadline:
            time.sleep(0.1)

    def mounts(self) -> list[str]:
        """Mount points under the node's directory (kubelet volumes, pod netns, rootfs)."""
        home = str(self.layout.home.resolve())
        found = []
        with Path("/proc/self/mountinfo").open(encoding="utf-8") as handle:
            for line in handle:
                point = line.split()[4].replace("\\040", " ")
                if point == home or point.startswith(home + "/"):
                    found.append(point)
        return found

    def _unmount_all(self) -> int:
        count = 0
        for _ in range(5):
            points = sorted(set(self.mounts()), key=len, reverse=True)
            if not points:
                break
            for point in points:
                done = run(["umount", point], check=False, timeout=30)
                if done.returncode != 0:
                    run(["umount", "--lazy", point], check=False, timeout=30)
                count += 1
        return count

    def interfaces(self) -> list[str]:
        """The bridge and anything still attached to it."""
        net = Path("/sys/class/net")
        bridge = self.settings.bridge
        found = [bridge] if (net / bridge).exists() else []
        for master in net.glob("*/master"):
            with contextlib.suppress(OSError):
                if master.readlink().name == bridge:
                    found.append(master.parent.name)
        return found


#: Set by the node lifecycle controller until it sees the node Ready (up to its monitor period,
#: 25 s with kwokctl's settings); no pod schedules while it is there.
NOT_READY_TAINT = "node.kubernetes.io/not-ready"


def _node_ready(node: dict[str, Any] | None) -> bool:
    """Ready, and schedulable as far as readiness goes (the not-ready taint is gone)."""
    if not node:
        return False
    conditions = node.get("status", {}).get("conditions") or []
    taints = node.get("spec", {}).get("taints") or []
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in conditions
    ) and not any(t.get("key") == NOT_READY_TAINT for t in taints)


def _process_env(home: Path) -> dict[str, str]:
    """containerd and the kubelet get a plain PATH and nothing of the caller's environment."""
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": str(home),
    }
