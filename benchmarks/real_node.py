"""The sandbox's real node: `cluster up --real-node` cold and warm, what its processes hold in
memory, pod start latency (create -> Ready) on the real node against a kwok pod, and the
recovery of a deleted pod (delete -> its replacement Ready).

Run (`hyperscale local up registry` and `hyperscale images build -s api --push` first, so the
API image is in the local registry; the benchmark takes the newest build record's digest):
    .venv/bin/python benchmarks/real_node.py [--runs 3] [--cold]

--cold deletes the sandbox cluster and the node's state first (the binaries stay built).
Times are wall-clock on whatever else the machine is doing; the pod latencies are taken from
a watch's events, as the tests do.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from hyperscale.context import AppContext  # noqa: E402

CLI = [sys.executable, "-m", "hyperscale"]
PLACEMENT = {
    "nodeSelector": {"hyperscale.dev/node": "real"},
    "tolerations": [
        {"key": "hyperscale.dev/real-node", "operator": "Exists", "effect": "NoSchedule"}
    ],
}


def cli(*args: str) -> dict[str, Any]:
    done = subprocess.run([*CLI, *args, "-o", "json"], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"hyperscale {' '.join(args)} failed: {done.stderr or done.stdout}")
    data: dict[str, Any] = json.loads(done.stdout)["data"]
    return data


def timed_up() -> float:
    started = time.monotonic()
    data = cli("local", "cluster", "up", "--real-node")
    assert data["real_node"]["ready"], data
    return time.monotonic() - started


def memory_mib(app: AppContext) -> dict[str, float]:
    """RSS of containerd, the kubelet, kube-proxy and containerd's shims for this node."""
    home = str(app.state_dir / "cluster" / "node")
    found: dict[str, float] = {}
    for proc in psutil.process_iter(["name", "cmdline", "memory_info"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if home not in cmdline:
            continue
        name = proc.info["name"] or "?"
        found[name] = found.get(name, 0.0) + proc.info["memory_info"].rss / 2**20
    return {k: round(v, 1) for k, v in sorted(found.items())}


def api_image(app: AppContext) -> str:
    """The API image of the newest build record, by the digest the local registry holds."""
    latest = app.state_dir / "images" / "builds" / "latest.json"
    try:
        pushed = json.loads(latest.read_text(encoding="utf-8"))["images"]["api"]["registries"]
    except (OSError, KeyError, ValueError):
        raise SystemExit(
            "no pushed API image: `hyperscale images build -s api --push` first"
        ) from None
    ref, digest = next(iter(pushed.items()))
    return f"{ref}@{digest}"


def pod_ready_seconds(kube: Any, namespace: str, spec: dict[str, Any]) -> float:
    from lightkube import codecs
    from lightkube.resources.core_v1 import Pod

    name = f"bench-{uuid.uuid4().hex[:6]}"
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}}
    started = time.monotonic()
    kube.create(codecs.from_dict({**body, "spec": spec}))
    for _, pod in kube.watch(Pod, namespace=namespace, fields={"metadata.name": name}):
        conditions = pod.status.conditions or [] if pod.status else []
        if any(c.type == "Ready" and c.status == "True" for c in conditions):
            elapsed = time.monotonic() - started
            break
    kube.delete(Pod, name, namespace=namespace, grace_period=0)
    return elapsed


def recovery_seconds(kube: Any, namespace: str, template: dict[str, Any]) -> float:
    from lightkube import codecs
    from lightkube.resources.core_v1 import Pod

    labels = {"app": "bench-recovery"}
    kube.apply(
        codecs.from_dict(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "bench-recovery", "namespace": namespace},
                "spec": {
                    "replicas": 1,
                    "selector": {"matchLabels": labels},
                    "template": {"metadata": {"labels": labels}, "spec": template},
                },
            }
        ),
        field_manager="benchmark",
    )

    def ready_pods() -> list[str]:
        return [
            p.metadata.name
            for p in kube.list(Pod, namespace=namespace, labels=labels)
            if p.metadata.deletionTimestamp is None
            and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])
        ]

    while not ready_pods():
        time.sleep(0.2)
    victim = ready_pods()[0]
    started = time.monotonic()
    kube.delete(Pod, victim, namespace=namespace)
    while not [p for p in ready_pods() if p != victim]:
        time.sleep(0.1)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true")
    args = parser.parse_args()
    app = AppContext.from_os()

    if args.cold:
        cli("local", "cluster", "down", "--delete")
        shutil.rmtree(app.state_dir / "cluster" / "node", ignore_errors=True)
        print(f"cold cluster up --real-node: {timed_up():.1f} s")
    warm = []
    for _ in range(args.runs):
        from hyperscale.config.loader import load_environment
        from hyperscale.local.cluster import core

        core.real_node_down(load_environment(app, "local"), app)
        warm.append(timed_up())
    print(
        f"warm up --real-node (control plane running, node down): {statistics.median(warm):.1f} s"
        f" median of {warm}"
    )
    print(f"memory (RSS MiB, idle node): {memory_mib(app)}")

    from lightkube import Client, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace

    config = KubeConfig.from_file(app.state_dir / "cluster" / "kubeconfig").get(
        context_name="kwok-hyperscale-sandbox"
    )
    namespace = f"bench-{uuid.uuid4().hex[:6]}"
    with Client(config=config, field_manager="benchmark") as kube:
        kube.create(Namespace(metadata=ObjectMeta(name=namespace)))
        time.sleep(2)  # the default service account
        image = api_image(app)
        web = {
            **PLACEMENT,
            "terminationGracePeriodSeconds": 2,
            "containers": [
                {
                    "name": "web",
                    "image": image,
                    "command": ["python", "-m", "http.server", "8080", "--directory", "/usr"],
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 1},
                }
            ],
        }
        kwok = {"containers": [{"name": "web", "image": "example.com/web:1"}]}
        real = [pod_ready_seconds(kube, namespace, web) for _ in range(args.runs)]
        fake = [pod_ready_seconds(kube, namespace, kwok) for _ in range(args.runs)]
        print(f"pod create -> Ready, real node (API image, HTTP probe): {real}")
        print(f"pod create -> Ready, kwok node: {fake}")
        print(f"memory (RSS MiB, one pod running): {memory_mib(app)}")
        recovered = [recovery_seconds(kube, namespace, web) for _ in range(args.runs)]
        print(f"pod delete -> replacement Ready (real node): {recovered}")
        kube.delete(Namespace, namespace)


if __name__ == "__main__":
    main()
