"""Load test of the deployed API: a ramp of concurrent cached reads and order writes, judged
against the environment's SLO (p95 latency and error rate); exit 1 when a stage breaches it.

Run (the platform deployed: `make demo`; loopback only, bounded: 3 stages of --stage seconds):
    .venv/bin/python benchmarks/load_test.py [--env local] [--stage 15] [--peak 64]

Each stage runs two wrk processes at once against the same API: cached product reads with three
quarters of the stage's connections, `POST /v1/orders` with the rest. The ramp is 1/8, 1/2 and all
of --peak connections. Thresholds: every stage's p95 below `slo.api_p95_ms` and its errors (socket
errors, timeouts, non-2xx) below `slo.api_error_rate_pct` of its requests.

Why wrk and not k6: k6 is under the AGPL, which this project does not take on; wrk (Debian) gives
the same percentiles through benchmarks/wrk_report.lua.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hyperscale.config.loader import load_environment  # noqa: E402
from hyperscale.context import AppContext  # noqa: E402

SKU = "LOAD-TEE"
ORDER = {
    "customer_id": "load-test",
    "currency": "EUR",
    "lines": [{"sku": SKU, "quantity": 1, "unit_price_cents": 1999}],
}
MAX_STAGE_SECONDS = 20  # three stages stay within a minute


def wrk(
    url: str, seconds: int, connections: int, body: dict[str, object] | None
) -> dict[str, float]:
    env = {**os.environ, "WRK_BODY": json.dumps(body) if body else ""}
    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(HERE / "wrk_report.lua"),
        url,
    ]
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, env=env, timeout=seconds + 30
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, float] = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="local")
    parser.add_argument("--stage", type=int, default=15, help="seconds per stage (at most 20)")
    parser.add_argument("--peak", type=int, default=64, help="connections in the last stage")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    if not 1 <= args.stage <= MAX_STAGE_SECONDS or not 8 <= args.peak <= 256:
        raise SystemExit(f"--stage must be 1-{MAX_STAGE_SECONDS} s and --peak 8-256 connections")
    env = load_environment(AppContext.from_os(), args.env)
    base = str(env.services.api_url).rstrip("/")
    if urlsplit(base).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"{base}: the load test only aims at this machine's loopback address")
    p95_limit_ms, error_limit_pct = env.slo.api_p95_ms, env.slo.api_error_rate_pct

    product = {"name": "Load tee", "description": "", "price_cents": 1999, "currency": "EUR"}
    put = urllib.request.Request(
        f"{base}/v1/products/{SKU}",
        data=json.dumps(product).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(put, timeout=5):
        pass
    with urllib.request.urlopen(f"{base}/v1/products/{SKU}", timeout=5):  # warm the cache
        pass

    print(
        f"wrk ramp against {base}: {args.stage} s per stage, {os.cpu_count()} cores;"
        f" thresholds p95 < {p95_limit_ms:g} ms, errors < {error_limit_pct:g} %\n"
    )
    print(
        "| stage | connections (reads + orders) | route | req/s | p50 ms | p95 ms | p99 ms"
        " | errors | verdict |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    breached = False
    for stage, total in enumerate((max(args.peak // 8, 2), args.peak // 2, args.peak), start=1):
        orders = max(total // 4, 1)
        reads = total - orders
        with ThreadPoolExecutor(2) as pool:
            runs = {
                f"GET /v1/products/{SKU}": pool.submit(
                    wrk, f"{base}/v1/products/{SKU}", args.stage, reads, None
                ),
                "POST /v1/orders": pool.submit(wrk, f"{base}/v1/orders", args.stage, orders, ORDER),
            }
            results = {route: future.result() for route, future in runs.items()}
        for route, r in results.items():
            error_pct = 100 * r["errors"] / max(r["requests"], 1)
            ok = r["p95_ms"] < p95_limit_ms and error_pct < error_limit_pct
            breached |= not ok
            print(
                f"| {stage} | {reads} + {orders} | `{route}` | {r['rps']:.0f} | {r['p50_ms']:.1f} |"
                f" {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['errors']:.0f} ({error_pct:.2f} %) |"
                f" {'ok' if ok else 'BREACHED'} |"
            )
    return 1 if breached else 0


if __name__ == "__main__":
    sys.exit(main())
