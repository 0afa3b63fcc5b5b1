"""`hyperscale render --check`: render plus full validation, for one to four environments.

Run: .venv/bin/python benchmarks/render.py [--runs 3]

The environments, in the order they are added: prod, staging, sandbox, and `qa`, a copy of prod
under another name (the repository has three Kubernetes environments; local has nothing to
render). Each environment is one `hyperscale render --env E --check -o json` process; N
environments run one after the other (what CI does) and, separately, all at once (N processes
on the machine's cores). Every run also reports its per-tool times from the JSON envelope, so
the table shows where the time goes. Growth is judged against the sum of the single-environment
times: a ratio near 1.0 is linear.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HYPERSCALE = Path(sys.executable).parent / "hyperscale"
ORDER = ["prod", "staging", "sandbox", "qa"]


def environments_copy(target: Path) -> Path:
    shutil.copytree(ROOT / "environments", target)
    text = (target / "prod.yaml").read_text(encoding="utf-8").replace("name: prod", "name: qa", 1)
    (target / "qa.yaml").write_text(text, encoding="utf-8")
    return target


def render_once(env: str, environ: dict[str, str]) -> tuple[float, dict[str, float], int]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(HYPERSCALE), "render", "--env", env, "--check", "-o", "json"],
        capture_output=True,
        text=True,
        env=environ,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # qa is "stale" (never committed): exit 1 is expected
        raise SystemExit(f"render --env {env} failed ({done.returncode}): {done.stderr.strip()}")
    tools = {t["tool"]: t["seconds"] for t in json.loads(done.stdout)["data"]["tools"]}
    return elapsed, tools, done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        environ = {
            **os.environ,
            "NO_COLOR": "1",
            "HYPERSCALE_ENVIRONMENTS_DIR": str(environments_copy(Path(tmp) / "environments")),
        }
        render_once("sandbox", environ)  # warm the page cache and checkov's own caches
        single: dict[str, list[float]] = {e: [] for e in ORDER}
        tools: dict[str, dict[str, list[float]]] = {e: {} for e in ORDER}
        sequential: dict[int, list[float]] = {n: [] for n in range(1, 5)}
        parallel: dict[int, list[float]] = {n: [] for n in range(1, 5)}
        for _ in range(args.runs):
            for env in ORDER:
                elapsed, per_tool, _ = render_once(env, environ)
                single[env].append(elapsed)
                for tool, seconds in per_tool.items():
                    tools[env].setdefault(tool, []).append(seconds)
            for n in range(1, 5):
                started = time.perf_counter()
                for env in ORDER[:n]:
                    render_once(env, environ)
                sequential[n].append(time.perf_counter() - started)
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=n) as pool:
                    list(pool.map(lambda e: render_once(e, environ), ORDER[:n]))
                parallel[n].append(time.perf_counter() - started)
    median = statistics.median
    print(f"hyperscale render --check, median of {args.runs} runs, {os.cpu_count()} cores\n")
    print("| environment | wall s | " + " | ".join(sorted(tools["prod"])) + " |")
    print("|---|---:|" + "---:|" * len(tools["prod"]))
    for env in ORDER:
        cells = " | ".join(f"{median(tools[env][t]):.2f}" for t in sorted(tools["prod"]))
        print(f"| {env} | {median(single[env]):.2f} | {cells} |")
    print("\n| environments | sequential s | sum of singles s | ratio | all at once s |")
    print("|---|---:|---:|---:|---:|")
    for n in range(1, 5):
        singles = sum(median(single[e]) for e in ORDER[:n])
        seq = median(sequential[n])
        print(
            f"| {n} ({', '.join(ORDER[:n])}) | {seq:.2f} | {singles:.2f} | {seq / singles:.2f}"
            f" | {median(parallel[n]):.2f} |"
        )


if __name__ == "__main__":
    main()
