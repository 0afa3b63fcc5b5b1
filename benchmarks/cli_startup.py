"""Start-up time of `hyperscale --help` against bare Python and against `aws --version`.

Run: .venv/bin/python benchmarks/cli_startup.py [--runs 30] [--baseline REV]

With --baseline REV, the package as it was at git revision REV (exported into a temporary
directory) runs `--help` in the same interleaved loop, and the ratio of the two is printed: how
a change moved start-up, measured side by side rather than against an old figure.

Each command runs --runs times, interleaved (A B C A B C ...) so drift on the machine hits all
of them alike; the table gives the median and the 90th percentile wall time, and the ratios the
issue asks for. The goal: `hyperscale --help` at most 2x bare Python, and at least 2x faster
than `aws --version`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _which(name: str) -> str:
    local = BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found: run `make bootstrap` (it installs the bench extra)")
    return found


def measure(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100"}
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache once
        subprocess.run(argv, capture_output=True, check=True, env=env)
    for _ in range(runs):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, capture_output=True, check=True, env=env)
            timings[name].append(time.perf_counter() - start)
    return timings


def export_revision(rev: str, into: Path) -> Path:
    """The hyperscale package as it was at ``rev``, unpacked under ``into``."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "-C", str(root), "archive", "--format=tar", rev, "hyperscale"],
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--baseline", metavar="REV", help="also time --help as of git REV")
    args = parser.parse_args()
    if args.baseline:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="hyperscale-baseline-") as tmp:
            compare_with_revision(args.baseline, Path(tmp), args.runs)
        return
    commands = {
        "python3 -c pass": [sys.executable, "-c", "pass"],
        # The floor for any typer CLI: the framework's own import, before a single command exists.
        "python3 -c 'import typer'": [sys.executable, "-c", "import typer"],
        "hyperscale --help": [_which("hyperscale"), "--help"],
        "hyperscale --version": [_which("hyperscale"), "--version"],
        "aws --version": [_which("aws"), "--version"],
    }
    timings = measure(commands, args.runs)
    median = {name: statistics.median(t) for name, t in timings.items()}
    p90 = {name: statistics.quantiles(t, n=10)[-1] for name, t in timings.items()}
    print(f"{args.runs} interleaved runs each, {os.cpu_count()} cores\n")
    print("| command | median ms | p90 ms |")
    print("|---|---:|---:|")
    for name in commands:
        print(f"| `{name}` | {median[name] * 1000:.1f} | {p90[name] * 1000:.1f} |")
    vs_python = median["hyperscale --help"] / median["python3 -c pass"]
    vs_aws = median["aws --version"] / median["hyperscale --help"]
    print()
    print(f"hyperscale --help / python3 -c pass = {vs_python:.2f}x  (goal <= 2.0x)")
    print(f"aws --version / hyperscale --help   = {vs_aws:.2f}x  (goal >= 2.0x)")
    floor = median["python3 -c 'import typer'"] / median["python3 -c pass"]
    print(f"floor: import typer / python3 -c pass = {floor:.2f}x")


def compare_with_revision(rev: str, tmp: Path, runs: int) -> None:
    """`python -m hyperscale --help` from this checkout and from ``rev``, interleaved."""
    root = Path(__file__).resolve().parent.parent
    old = export_revision(rev, tmp)
    python = sys.executable
    commands = {
        "now": ["env", f"PYTHONPATH={root}", python, "-m", "hyperscale", "--help"],
        rev: ["env", f"PYTHONPATH={old}", python, "-m", "hyperscale", "--help"],
    }
    timings = measure(commands, runs)
    median = {name: statistics.median(t) for name, t in timings.items()}
    print(f"{runs} interleaved runs each, {os.cpu_count()} cores\n")
    print("| `python -m hyperscale --help` at | median ms | p90 ms |")
    print("|---|---:|---:|")
    for name, t in timings.items():
        p90 = statistics.quantiles(t, n=10)[-1]
        print(f"| {name} | {median[name] * 1000:.1f} | {p90 * 1000:.1f} |")
    print(f"\nnow / {rev} = {median['now'] / median[rev]:.3f}x  (goal <= 1.05x)")


if __name__ == "__main__":
    main()
