"""What the real node needs on disk: its layout, credentials, configuration and sandbox image.

All of it lives under ``<state>/cluster/node`` (the system's /var/lib/kubelet, /run/containerd
and /etc/cni are never touched), so two runs with their own state directories never meet.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import ipaddress
import json
import platform
import resource
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path

from hyperscale.config.models import LocalCluster
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.runner import run
from hyperscale.templating import render_to_file

#: The sandbox image's name; its tag is the pause program's digest, so a new build is a new tag.
SANDBOX_IMAGE = "localhost/hyperscale/pause"
#: Where Debian's containernetworking-plugins puts the CNI plugins.
CNI_BIN_DIR = Path("/usr/lib/cni")
#: Keeps the simulated workloads off the real node; the platform's pods tolerate it.
REAL_NODE_TAINT = "hyperscale.dev/real-node"
REAL_NODE_LABEL = "hyperscale.dev/node"


@dataclass(frozen=True)
class NodeLayout:
    """Every path of one real node."""

    home: Path

    @property
    def socket(self) -> Path:
        return self.home / "containerd" / "containerd.sock"

    @property
    def containerd_config(self) -> Path:
        return self.home / "containerd" / "config.toml"

    @property
    def kubelet_root(self) -> Path:
        return self.home / "kubelet" / "root"

    @property
    def kubelet_config(self) -> Path:
        return self.home / "kubelet" / "config.yaml"

    @property
    def kubeconfig(self) -> Path:
        return self.home / "kubelet" / "kubeconfig"

    @property
    def kube_proxy_config(self) -> Path:
        return self.home / "kube-proxy" / "config.yaml"

    @property
    def kube_proxy_kubeconfig(self) -> Path:
        return self.home / "kube-proxy" / "kubeconfig"

    @property
    def pki(self) -> Path:
        return self.home / "kubelet" / "pki"

    @property
    def cni_bin(self) -> Path:
        return self.home / "cni" / "bin"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def logs(self) -> Path:
        return self.home / "logs"


def node_name(cluster: LocalCluster) -> str:
    return f"{cluster.name}-real"


def node_address(cluster: LocalCluster) -> str:
    """The pod bridge's own address (the first of the pod range): the node's InternalIP."""
    return str(next(ipaddress.ip_network(cluster.real_node.pod_cidr).hosts()))


#: Client certificates: file stem -> subject. The kubelet's is the identity the API server's
#: Node authorizer knows a kubelet by; kube-proxy's is the user RBAC's default binding
#: system:node-proxier names.
def client_subjects(node: str) -> dict[str, str]:
    return {
        "kubelet-client": f"/O=system:nodes/CN=system:node:{node}",
        "kube-proxy-client": "/CN=system:kube-proxy",
    }


def write_credentials(layout: NodeLayout, node: str, ca_cert: Path, ca_key: Path) -> None:
    """Client certificates for the kubelet and kube-proxy, signed by the cluster's CA; made
    again when the cluster's CA changed (a cluster created anew)."""
    pki = layout.pki
    pki.mkdir(parents=True, exist_ok=True)
    ca_copy = pki / "ca.crt"
    ca_pem = ca_cert.read_bytes()
    current = ca_copy.is_file() and ca_copy.read_bytes() == ca_pem
    for stem, subject in client_subjects(node).items():
        cert, key = pki / f"{stem}.crt", pki / f"{stem}.key"
        if current and cert.is_file() and key.is_file():
            continue
        _sign(pki, stem, subject, ca_cert, ca_key)
    shutil.copyfile(ca_cert, ca_copy)


def _sign(pki: Path, stem: str, subject: str, ca_cert: Path, ca_key: Path) -> None:
    cert, key, csr = pki / f"{stem}.crt", pki / f"{stem}.key", pki / f"{stem}.csr"
    run(
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", str(key)],
        what=f"generating the {stem} key",
    )
    key.chmod(0o600)
    run(
        ["openssl", "req", "-new", "-key", str(key), "-out", str(csr), "-subj", subject],
        what=f"making the {stem} certificate request",
    )
    run(
        [
            *("openssl", "x509", "-req", "-in", str(csr), "-days", "365", "-out", str(cert)),
            *("-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAserial", str(pki / "ca.srl")),
            "-CAcreateserial",
        ],
        what=f"signing the {stem} certificate with the cluster's CA",
    )
    csr.unlink(missing_ok=True)


def kubeconfig_text(server: str, layout: NodeLayout, user: str, stem: str) -> str:
    pki = layout.pki
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "sandbox",
                    "cluster": {"server": server, "certificate-authority": str(pki / "ca.crt")},
                }
            ],
            "users": [
                {
                    "name": user,
                    "user": {
                        "client-certificate": str(pki / f"{stem}.crt"),
                        "client-key": str(pki / f"{stem}.key"),
                    },
                }
            ],
            "contexts": [{"name": user, "context": {"cluster": "sandbox", "user": user}}],
            "current-context": user,
        },
        indent=2,
    )


def max_open_files() -> int:
    """The kubelet sets its open-files limit to this; without CAP_SYS_RESOURCE it may only
    lower it, so it gets the hard limit it already has (its default, 1000000, is refused)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return hard if hard != resource.RLIM_INFINITY else 1_048_576


def write_configs(
    app: AppContext,
    cluster: LocalCluster,
    layout: NodeLayout,
    *,
    server: str,
    sandbox_image: str,
    registry: str,
    loopback_ports: list[int],
) -> None:
    node = cluster.real_node
    home = layout.home
    for directory in (
        home / "containerd" / "certs.d",
        home / "cni" / "net.d",
        home / "cni" / "ipam",
        layout.kubelet_root,
        home / "kube-proxy",
        home / "kubelet" / "pod-logs",
        home / "kubelet" / "volume-plugins",
        layout.run_dir,
        layout.logs,
    ):
        directory.mkdir(parents=True, exist_ok=True)
    runc = shutil.which("runc") or "/usr/sbin/runc"
    render_to_file(
        app,
        "local/cluster/node/containerd.toml.j2",
        layout.containerd_config,
        home=home,
        socket=layout.socket,
        sandbox_image=sandbox_image,
        stream_port=node.containerd_stream_port,
        runc=runc,
        cni_bin_dir=layout.cni_bin,
    )
    render_to_file(
        app,
        "local/cluster/node/hosts.toml.j2",
        home / "containerd" / "certs.d" / registry / "hosts.toml",
        registry=registry,
    )
    render_to_file(
        app,
        "local/cluster/node/cni.conflist.j2",
        home / "cni" / "net.d" / "10-hyperscale.conflist",
        network=f"{cluster.name}-pods",
        bridge=node.bridge,
        pod_cidr=node.pod_cidr,
        home=home,
        gateway=node_address(cluster),
        loopback_ports=json.dumps(sorted(set(loopback_ports))),
    )
    render_to_file(
        app,
        "local/cluster/node/kubelet-config.yaml.j2",
        layout.kubelet_config,
        node=node,
        home=home,
        socket=layout.socket,
        ca_file=layout.pki / "ca.crt",
        max_open_files=max_open_files(),
        gateway=node_address(cluster),
    )
    name = node_name(cluster)
    render_to_file(
        app,
        "local/cluster/node/kube-proxy-config.yaml.j2",
        layout.kube_proxy_config,
        node=node,
        node_name=name,
        kubeconfig=layout.kube_proxy_kubeconfig,
    )
    for path, user, stem in (
        (layout.kubeconfig, name, "kubelet-client"),
        (layout.kube_proxy_kubeconfig, "system:kube-proxy", "kube-proxy-client"),
    ):
        path.write_text(kubeconfig_text(server, layout, user, stem))
        path.chmod(0o600)


def _oci_arch() -> str:
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def sandbox_image_archive(pause_binary: Path, target_dir: Path) -> tuple[str, Path]:
    """An OCI image archive holding only the pause program; its reference and path.

    Written here rather than built by buildah: a few bytes of JSON and one file, no image
    storage shared with other runs, and the same bytes every time for the same program.
    """
    program = pause_binary.read_bytes()
    tag = hashlib.sha256(program).hexdigest()[:12]
    reference = f"{SANDBOX_IMAGE}:{tag}"
    archive = target_dir / f"pause-{tag}.tar"
    if archive.is_file():
        return reference, archive
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("pause")
        info.size, info.mode = len(program), 0o755
        tar.addfile(info, io.BytesIO(program))
    layer_tar = layer.getvalue()
    layer_gz = gzip.compress(layer_tar, mtime=0)
    arch = _oci_arch()
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "config": {"Entrypoint": ["/pause"]},
            "rootfs": {
                "type": "layers",
                "diff_ids": [f"sha256:{hashlib.sha256(layer_tar).hexdigest()}"],
            },
        }
    ).encode()

    def descriptor(media_type: str, blob: bytes) -> dict[str, object]:
        return {
            "mediaType": media_type,
            "digest": f"sha256:{hashlib.sha256(blob).hexdigest()}",
            "size": len(blob),
        }

    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": descriptor("application/vnd.oci.image.config.v1+json", config),
            "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer_gz)],
        }
    ).encode()
    index = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    **descriptor("application/vnd.oci.image.manifest.v1+json", manifest),
                    "platform": {"architecture": arch, "os": "linux"},
                    "annotations": {
                        "io.containerd.image.name": reference,
                        "org.opencontainers.image.ref.name": tag,
                    },
                }
            ],
        }
    ).encode()
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = archive.with_suffix(".partial")
    with tarfile.open(partial, mode="w") as out:
        files = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode()}
        files["index.json"] = index
        for blob in (config, manifest, layer_gz):
            files[f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}"] = blob
        for name, blob in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            out.addfile(info, io.BytesIO(blob))
    partial.replace(archive)
    return reference, archive


def require_tools() -> None:
    """containerd, ctr, runc, the CNI plugins and openssl: scripts/bootstrap.sh installs them."""
    missing = [tool for tool in ("containerd", "ctr", "runc", "openssl") if not shutil.which(tool)]
    if not (CNI_BIN_DIR / "bridge").is_file():
        missing.append(f"the CNI plugins ({CNI_BIN_DIR}/bridge)")
    if missing:
        raise ExternalSystemError(
            f"the real node needs {', '.join(missing)}",
            hint="run `make bootstrap` (Debian packages containerd, runc,"
            " containernetworking-plugins)",
        )
