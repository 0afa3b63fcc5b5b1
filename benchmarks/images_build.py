"""`hyperscale images build` of the API and the consumer against plain `buildah bud`.

Run: .venv/bin/python benchmarks/images_build.py

In a throw-away clone of the current commit (so the working tree is never touched), on the
base image `hyperscale images base` made:

- cold: neither service image nor any of their layers exists (removed first);
- warm: one line of the API's source changed (a different line for each tool, so neither
  reuses the other's code layer), everything else as before: the dependency layer must come
  from the cache.

Each scenario runs `hyperscale images build -s api -s consumer` and then, after the same
reset, `buildah bud` of the same two Dockerfiles with the same flags (the adapter's
containers.conf, the base, the ignore files). The overhead is the difference of the two over
the baseline. Sizes compare the multi-stage images with a single-stage build of the same
service (base + source + `pip install`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HYPERSCALE = [sys.executable, "-m", "hyperscale"]
BASE = "localhost/hyperscale/python:3.11-bookworm"
SERVICES = ("api", "consumer")


def sh(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {(done.stderr or done.stdout)[-2000:]}")
    return done.stdout


def reset(env: dict[str, str], cwd: Path, prefix: str) -> None:
    """Every image of ``prefix`` and every dangling layer goes; the base stays."""
    refs = sh(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"], env, cwd).split()
    doomed = [r for r in refs if r.startswith(prefix)]
    if doomed:
        sh(["podman", "rmi", "--force", *doomed], env, cwd)
    sh(["podman", "image", "prune", "--force"], env, cwd)


def buildah(env: dict[str, str], cwd: Path, service: str, tag: str, extra: list[str]) -> None:
    argv = ["buildah", "bud", "--layers", "--network", "host", "--pull-never", "--quiet"]
    argv += ["--build-arg", f"PYTHON_IMAGE={BASE}", "--tag", tag]
    argv += ["--file", f"services/{service}/Dockerfile"]
    argv += ["--ignorefile", f"services/{service}/Dockerfile.dockerignore", *extra, "."]
    sh(argv, env, cwd)


def timed(work: object) -> float:
    started = time.perf_counter()
    work()  # type: ignore[operator]
    return time.perf_counter() - started


def size_mb(env: dict[str, str], cwd: Path, ref: str) -> float:
    out = sh(["podman", "image", "inspect", "--format", "{{.Size}}", ref], env, cwd)
    return int(out.strip()) / 1e6


def main() -> None:
    environ = dict(os.environ)
    environ["PYTHONPATH"] = str(ROOT)
    sh([*HYPERSCALE, "images", "base"], environ, ROOT)
    conf = Path(environ.get("HYPERSCALE_CACHE_DIR", Path.home() / ".cache/hyperscale"))
    environ["CONTAINERS_CONF"] = str(conf / "images" / "containers.conf")
    ca = "/etc/ssl/certs/ca-certificates.crt"
    extra = ["--volume", f"{ca}:{ca}:ro"] if Path(ca).is_file() else []
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    rows: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "repo"
        sh(["git", "clone", "-q", str(ROOT), str(clone)], environ, ROOT)
        environ["HYPERSCALE_STATE_DIR"] = str(Path(tmp) / "state")
        environ["PYTHONPATH"] = str(clone)

        def ours() -> None:
            sh([*HYPERSCALE, "images", "build", "-s", "api", "-s", "consumer"], environ, clone)

        def plain() -> None:
            for service in SERVICES:
                buildah(environ, clone, service, f"localhost/bench/{service}:plain", extra)

        app = clone / "services/api/platform_api/app.py"
        original = app.read_text()

        def cold() -> None:
            for prefix in ("localhost/hyperscale/api", "localhost/hyperscale/consumer"):
                reset(environ, clone, prefix)
            reset(environ, clone, "localhost/bench/")

        def change(marker: str) -> None:
            # A different line for each build: neither finds the other's code layer cached.
            app.write_text(f"{original}\n# benchmark change {marker}\n")

        for run in range(args.runs):
            cold()
            plain_cold = timed(plain)
            cold()
            ours_cold = timed(ours)
            change(f"{run}-ours")
            ours_warm = timed(ours)
            change(f"{run}-plain")
            plain_warm = timed(plain)
            for scenario, mine, theirs in (
                ("cold", ours_cold, plain_cold),
                ("warm", ours_warm, plain_warm),
            ):
                rows.setdefault(scenario, {"hyperscale": [], "buildah": []})
                rows[scenario]["hyperscale"].append(mine)
                rows[scenario]["buildah"].append(theirs)
        single = Path(tmp) / "single.Containerfile"
        sizes = {}
        for service in SERVICES:
            single.write_text(
                f"FROM {BASE}\nWORKDIR /src\nCOPY services/events/ services/events/\n"
                f"COPY services/{service}/ services/{service}/\n"
                f"RUN pip install --no-cache-dir ./services/events ./services/{service}\n"
            )
            ref = f"localhost/bench/{service}:single"
            sh(
                [
                    "buildah",
                    "bud",
                    "--layers",
                    "--network",
                    "host",
                    "--pull-never",
                    "--quiet",
                    *extra,
                    "--ignorefile",
                    f"services/{service}/Dockerfile.dockerignore",
                    "--file",
                    str(single),
                    "--tag",
                    ref,
                    ".",
                ],
                environ,
                clone,
            )
            multi = f"localhost/bench/{service}:plain"
            sizes[service] = {
                "multi_stage_mb": size_mb(environ, clone, multi),
                "single_stage_mb": size_mb(environ, clone, ref),
                "base_mb": size_mb(environ, clone, BASE),
            }
        reset(environ, clone, "localhost/bench/")
    medians = {
        k: {tool: round(statistics.median(times), 2) for tool, times in v.items()}
        for k, v in rows.items()
    }
    report = {
        "runs": args.runs,
        "builds_s_median": medians,
        "overhead_pct": {
            k: round(100 * (v["hyperscale"] - v["buildah"]) / v["buildah"], 1)
            for k, v in medians.items()
        },
        "sizes": sizes,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
