"""`hyperscale infra plan --env local-aws` against a shell loop of `terraform plan` over the
same roots in the same order, on a stack already applied to the local moto server.

Run (after `hyperscale local up aws` and `hyperscale infra apply --env local-aws --yes`):
    .venv/bin/python benchmarks/infra_plan.py [--env local-aws] [--runs 1]

The loop is what an operator would type without hyperscale, given what hyperscale leaves
ready: each root's working directory (TF_DATA_DIR, already initialised), its generated
upstream inputs, and the same -target list for the roots with excluded resources. It runs

    for root in vpc eks rds redis; do TF_DATA_DIR=... terraform -chdir=ROOT plan \
        -input=false -detailed-exitcode -var-file=... [-target=...]; done

hyperscale also renders the roots, checks the state bucket, lock table and secrets in moto,
checks each root's init fingerprint and reads the upstream outputs (vpc's and eks's, at once),
then plans the four roots at once: a plan changes nothing and takes its upstreams' outputs
from their state as they are. Both must find the same thing (no changes: exit 0); the ratio
is hyperscale's time over the loop's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hyperscale.config.loader import load_environment  # noqa: E402
from hyperscale.context import AppContext  # noqa: E402
from hyperscale.infra.core import INPUTS_FILE, open_run  # noqa: E402
from hyperscale.infra.stack import apply_order  # noqa: E402

HYPERSCALE = Path(sys.executable).parent / "hyperscale"


def hyperscale_plan(env: str) -> tuple[float, int, list[str]]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(HYPERSCALE), "infra", "plan", "--env", env, "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    elapsed = time.perf_counter() - started
    modules = json.loads(done.stdout)["data"]["modules"]
    return elapsed, done.returncode, [m["module"] for m in modules if m["status"] != "excluded"]


def loop_commands(env_name: str) -> list[tuple[list[str], dict[str, str]]]:
    """One `terraform plan` per root hyperscale plans, as the loop runs it."""
    app = AppContext.from_os()
    env = load_environment(app, env_name)
    run = open_run(env, app, None, lambda _: None)
    commands = []
    for name in apply_order(run.stack):
        if name in run.excluded:
            continue
        work = run.work_dir(name)
        terraform = run.terraform(name)
        inputs = work / INPUTS_FILE
        targets = run.targets(name)
        argv = [
            "terraform",
            f"-chdir={terraform.root}",
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            "-lock-timeout=120s",
            f"-var-file={inputs}",
            *(f"-target={t}" for t in targets),
        ]
        commands.append((argv, {**os.environ, "TF_DATA_DIR": str(work / "data")}))
    return commands


def shell_loop(commands: list[tuple[list[str], dict[str, str]]]) -> tuple[float, list[int]]:
    started = time.perf_counter()
    codes = [
        subprocess.run(argv, env=environ, capture_output=True, check=False).returncode
        for argv, environ in commands
    ]
    return time.perf_counter() - started, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="local-aws")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    _, code, planned = hyperscale_plan(args.env)  # warm: page cache, provider binary
    if code != 0:
        raise SystemExit(f"infra plan exited {code}: apply the stack first (no changes wanted)")
    commands = loop_commands(args.env)
    for _ in range(args.runs):
        ours, our_code, _ = hyperscale_plan(args.env)
        theirs, codes = shell_loop(commands)
        print(
            f"roots {', '.join(planned)}: hyperscale infra plan {ours:.1f} s (exit {our_code}),"
            f" terraform plan loop {theirs:.1f} s (exits {codes}), ratio {ours / theirs:.2f}"
        )


if __name__ == "__main__":
    main()
