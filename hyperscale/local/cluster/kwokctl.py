"""The adapter to kwokctl (binary runtime) and the binaries scripts/build-k8s.sh builds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import psutil

from hyperscale.config.models import LocalCluster
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.runner import run
from hyperscale.templating import render_to_file

COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
    "metrics-server",
)

#: A cold build of the binaries takes about five minutes on two cores (see tools/k8s/README.md).
BUILD_TIMEOUT_S = 1800

#: kwok's stages, with the sandbox's failure stages; a cluster created without the newest of
#: them is created again (kwokctl keeps the stages it was created with).
STAGES_TEMPLATE = "local/cluster/stages.yaml"
STAGES_MARKER = "name: pod-image-pull-backoff"
#: kwok restricted to its own nodes (the real node's pods are the kubelet's); a cluster created
#: before that is created again too.
KWOK_SCOPE_MARKER = "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake"
#: The API server's client certificate for kubelets (a real node's logs and exec).
KUBELET_CLIENT_MARKER = "--kubelet-preferred-address-types=InternalIP"
#: metrics-server beside the control plane, reading the real node only.
METRICS_SERVER_MARKER = "--node-selector=hyperscale.dev/node=real"
#: metrics-server's registration (a kustomize directory kwokctl reads), under templates/.
METRICS_SERVER_MANIFESTS = "local/cluster/metrics-server"


@dataclass(frozen=True)
class ComponentProcess:
    name: str
    pid: int | None

    @property
    def running(self) -> bool:
        return self.pid is not None


class Kwokctl:
    """One kwokctl-managed cluster whose whole state lives under ``<state>/cluster``."""

    def __init__(self, app: AppContext, cluster: LocalCluster) -> None:
        self.app = app
        self.cluster = cluster
        self.home = app.state_dir / "cluster"
        self.workdir = self.home / "kwok"
        self.kubeconfig = self.home / "kubeconfig"
        self.cluster_dir = self.workdir / "clusters" / cluster.name

    @cached_property
    def bin_dir(self) -> Path:
        """Build the binaries when missing (a no-op when the cache is current)."""
        script = self.app.scripts_dir / "build-k8s.sh"
        done = run(
            ["bash", str(script)],
            env={"HYPERSCALE_CACHE_DIR": str(self.app.cache_dir)},
            timeout=BUILD_TIMEOUT_S,
            what="building the Kubernetes binaries (scripts/build-k8s.sh)",
        )
        return Path(done.stdout.strip().splitlines()[-1])

    @cached_property
    def kube_version(self) -> str:
        out = run([str(self.bin_dir / "kube-apiserver"), "--version"]).stdout
        match = re.search(r"v\d+\.\d+\.\d+", out)
        if not match:
            raise ExternalSystemError(f"cannot read the kube-apiserver version from {out!r}")
        return match.group(0)

    @property
    def ca_file(self) -> Path:
        return self.cluster_dir / "pki" / "ca.crt"

    @property
    def exists(self) -> bool:
        return (self.cluster_dir / "kwok.yaml").is_file()

    def _kwokctl(self, *args: str, timeout: float = 180) -> None:
        config = self.home / "kwokctl.yaml"
        render_to_file(
            self.app,
            "local/cluster/kwokctl.yaml.j2",
            config,
            cluster=self.cluster,
            bin_dir=self.bin_dir,
            kube_version=self.kube_version,
            stages=(self.app.templates_dir / STAGES_TEMPLATE).read_text(encoding="utf-8"),
            pki_dir=self.cluster_dir / "pki",
            metrics_server_manifests=self.app.templates_dir / METRICS_SERVER_MANIFESTS,
        )
        env = {
            "KWOK_WORKDIR": str(self.workdir),
            "KWOK_KUBE_VERSION": self.kube_version,
            "KWOK_RUNTIME": "binary",
        }
        run(
            [
                str(self.bin_dir / "kwokctl"),
                *args,
                "--name",
                self.cluster.name,
                "--config",
                str(config),
            ],
            env=env,
            timeout=timeout,
            what=f"kwokctl {args[0]} cluster {self.cluster.name}",
        )

    @property
    def stages_current(self) -> bool:
        """Whether the existing cluster plays the sandbox's failure stages, on kwok's nodes only."""
        try:
            text = (self.cluster_dir / "kwok.yaml").read_text(encoding="utf-8")
        except OSError:
            return False
        markers = (STAGES_MARKER, KWOK_SCOPE_MARKER, KUBELET_CLIENT_MARKER, METRICS_SERVER_MARKER)
        return all(m in text for m in markers)

    def create(self) -> None:
        # --kubeconfig always: kwokctl's default is the user's real ~/.kube/config.
        self._kwokctl("create", "cluster", "--kubeconfig", str(self.kubeconfig), "--wait", "2m")

    def start(self) -> None:
        self._kwokctl("start", "cluster", "--wait", "2m")

    def stop(self) -> None:
        self._kwokctl("stop", "cluster")

    def delete(self) -> None:
        self._kwokctl("delete", "cluster", "--kubeconfig", str(self.kubeconfig))

    def components(self) -> list[ComponentProcess]:
        return [ComponentProcess(name, self._live_pid(name)) for name in COMPONENTS]

    def _live_pid(self, component: str) -> int | None:
        try:
            pid = int((self.cluster_dir / "pids" / f"{component}.pid").read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            proc = psutil.Process(pid)
            alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return None
        return pid if alive else None
