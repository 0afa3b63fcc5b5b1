"""`hyperscale deploy --env sandbox` against `kubectl apply --server-side` + `kubectl rollout
status`, side by side on the sandbox cluster, from nothing and as an update.

Run (`hyperscale local up` and `hyperscale local cluster up` first):
    .venv/bin/python benchmarks/deploy_kubernetes.py [--env sandbox] [--runs 1]

Both reach the same end state: the environment's manifests (kubectl: the committed
manifests/<env>, with the images replaced by the same pinned references hyperscale deploys),
every Deployment rolled out. kubectl rejects the kinds the sandbox does not serve (the CRDs of
ExternalSecret, VPA, PrometheusRule, Argo CD) and exits 1 after applying the rest; hyperscale
skips them. hyperscale also migrates the schema, reconciles the topics, takes the Lease, renders
and validates, writes the journal and watches every workload at once. Each scenario starts from
a deleted namespace; "update" first deploys image A (untimed), then times the move to image B.
Goal (issue 12): hyperscale <= 1.0x kubectl's wall time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from hyperscale.config.loader import load_environment  # noqa: E402
from hyperscale.config.secrets import generated_secret_path  # noqa: E402
from hyperscale.context import AppContext  # noqa: E402
from hyperscale.images.catalog import registry_for  # noqa: E402
from tests.images.seed import seed_image  # noqa: E402 - seeds the registry over its v2 API

IMAGES = ("api", "consumer", "cli")


class Bench:
    """One environment's namespace on the sandbox, deployed by either tool."""

    def __init__(self, env_name: str) -> None:
        self.app = AppContext.from_os()
        self.env = load_environment(self.app, env_name)
        local = load_environment(self.app, "local")
        self.kubectl = [
            str(self.app.cache_dir / "k8s" / "bin" / "kubectl"),
            "--kubeconfig",
            str(self.app.expand_path(self.env.target.kubeconfig or "")),
            "--context",
            self.env.target.context or "",
        ]
        self.namespace = self.env.target.namespace
        self.registry = registry_for(self.env, self.app).host
        self.manifests = self.app.manifests_dir(self.env.name)
        self.deployments = sorted(_name(p) for p in self.manifests.rglob("deployment.yaml"))
        self.environ = dict(os.environ)
        secret = generated_secret_path(self.app, local.mysql.password.generated or "")
        self.environ.setdefault("HYPERSCALE_SANDBOX_MYSQL_PASSWORD", secret.read_text().strip())

    def seed(self, tag: str) -> dict[str, str]:
        """Push tiny images under ``tag``; image name -> the pinned reference."""
        now = dt.datetime.now(dt.UTC)
        return {
            name: f"{self.registry}/hyperscale/{name}:{tag}@"
            + seed_image(f"http://{self.registry}", f"hyperscale/{name}", [tag], now)
            for name in IMAGES
        }

    def run(self, argv: list[str], *, check: bool = True) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, env=self.environ, check=False)
        if check and done.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:6])}... failed:\n{done.stdout}\n{done.stderr}")

    def clean(self) -> None:
        self.run([*self.kubectl, "delete", "namespace", self.namespace, "--ignore-not-found"])

    def kubectl_deploy(self, refs: dict[str, str]) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "manifests"
            shutil.copytree(self.manifests, copy)
            for path in copy.rglob("*.yaml"):
                path.write_text(_with_images(path.read_text(), refs))
            # kubectl applies files in path order: api/ before namespace.yaml, which fails
            # from nothing ("namespace not found"). The namespace goes first, as a person would.
            apply = [*self.kubectl, "apply", "--server-side"]
            self.run([*apply, "-f", str(copy / "namespace.yaml")])
            # Exits 1 for the kinds the sandbox does not serve, after applying the rest.
            self.run([*apply, "-R", "-f", str(copy)], check=False)
            for name in self.deployments:
                rollout = ["-n", self.namespace, "rollout", "status", f"deployment/{name}"]
                self.run([*self.kubectl, *rollout])

    def hyperscale_deploy(self, tag: str) -> None:
        deploy = ["deploy", "--env", self.env.name, "--image-tag", tag, "-o", "json"]
        self.run([sys.executable, "-m", "hyperscale", *deploy])

    def timed(self, prepare: Callable[[], None], action: Callable[[], None]) -> float:
        self.clean()
        prepare()
        started = time.perf_counter()
        action()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--env", default="sandbox")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    bench = Bench(args.env)
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        a, b = f"bench-a-{uuid.uuid4().hex[:6]}", f"bench-b-{uuid.uuid4().hex[:6]}"
        refs_a, refs_b = bench.seed(a), bench.seed(b)
        scenarios: dict[tuple[str, str], tuple[Callable[[], None], Callable[[], None]]] = {
            ("from nothing", "kubectl"): (lambda: None, partial(bench.kubectl_deploy, refs_a)),
            ("from nothing", "hyperscale"): (lambda: None, partial(bench.hyperscale_deploy, a)),
            ("update", "kubectl"): (
                partial(bench.kubectl_deploy, refs_a),
                partial(bench.kubectl_deploy, refs_b),
            ),
            ("update", "hyperscale"): (
                partial(bench.hyperscale_deploy, a),
                partial(bench.hyperscale_deploy, b),
            ),
        }
        for scenario, (prepare, action) in scenarios.items():
            results.setdefault(scenario, []).append(bench.timed(prepare, action))
            print(f"{scenario[0]:>12} {scenario[1]:>10}: {results[scenario][-1]:6.2f}s", flush=True)
    bench.clean()
    print()
    print("| scenario | kubectl s | hyperscale s | hyperscale / kubectl |")
    print("|---|---:|---:|---:|")
    for scenario in ("from nothing", "update"):
        k = statistics.median(results[(scenario, "kubectl")])
        h = statistics.median(results[(scenario, "hyperscale")])
        print(f"| {scenario} | {k:.2f} | {h:.2f} | {h / k:.2f}x |")


def _name(path: Path) -> str:
    for line in path.read_text().splitlines():
        if line.startswith("  name: "):
            return line.removeprefix("  name: ").strip()
    raise SystemExit(f"{path}: no metadata.name")


def _with_images(text: str, refs: dict[str, str]) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        name = next((n for n in refs if f"/hyperscale/{n}:" in stripped), None)
        if stripped.startswith("image: ") and name is not None:
            out.append(f"{line[: len(line) - len(stripped)]}image: {refs[name]}\n")
        else:
            out.append(line)
    return "".join(out)


if __name__ == "__main__":
    main()
