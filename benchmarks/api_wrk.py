"""The API under wrk: cached product reads and order writes against a hello-world route.

Run (the platform deployed: `make demo`):
    .venv/bin/python benchmarks/api_wrk.py [--duration 15] [--connections 64] [--env local]

All three routes are served by the same deployed process with the same settings, one after the
other in one run; each route's throughput is reported as a ratio of hello-world's.
Goals (issue 4): cached GET >= 0.5x hello-world, POST /v1/orders >= 0.4x, p95 < 50 ms at 64
connections.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from hyperscale.clients.tokens import access_token  # noqa: E402
from hyperscale.config.loader import load_environment  # noqa: E402
from hyperscale.context import AppContext  # noqa: E402

SKU = "BENCH-TEE"
ORDER = {
    "customer_id": "bench",
    "currency": "EUR",
    "lines": [{"sku": SKU, "quantity": 1}],  # priced by the catalogue: 1999 cents
}


def wrk(
    url: str,
    seconds: int,
    connections: int,
    body: dict[str, object] | None = None,
    authorization: str = "",
    idempotency_prefix: str = "",
) -> dict[str, float]:
    # The token and the body travel in wrk's environment, never on its command line.
    env = {
        **os.environ,
        "WRK_BODY": json.dumps(body) if body else "",
        "WRK_AUTHORIZATION": authorization,
        "WRK_IDEMPOTENCY_PREFIX": idempotency_prefix,
    }
    argv = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(HERE / "wrk_report.lua"),
        url,
    ]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, env=env).stdout
    line = next(x for x in out.splitlines() if x.startswith("WRK_JSON "))
    result: dict[str, float] = json.loads(line.removeprefix("WRK_JSON "))
    result["rps"] = result["requests"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="local")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: run `make bootstrap` (Debian package wrk)")
    app = AppContext.from_os()
    env = load_environment(app, args.env)
    base = str(env.services.api_url).rstrip("/")
    # Authentication on, as in production: every request carries a bearer token the API verifies
    # (the first use of a token checks its signature; later ones hit the verified-token cache).
    authorization = (
        f"Bearer {access_token(env, app, ('catalog:read', 'catalog:write', 'orders:write'))}"
    )

    product = {"name": "Benchmark tee", "description": "", "price_cents": 1999, "currency": "EUR"}
    put = urllib.request.Request(
        f"{base}/v1/products/{SKU}",
        data=json.dumps(product).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Authorization": authorization},
    )
    with urllib.request.urlopen(put, timeout=5):
        pass
    warm = urllib.request.Request(
        f"{base}/v1/products/{SKU}", headers={"Authorization": authorization}
    )
    with urllib.request.urlopen(warm, timeout=5):  # warm the cache
        pass

    routes = {
        "GET /hello (baseline)": wrk(f"{base}/hello", args.duration, args.connections),
        f"GET /v1/products/{SKU} (cached)": wrk(
            f"{base}/v1/products/{SKU}", args.duration, args.connections, None, authorization
        ),
        "POST /v1/orders": wrk(
            f"{base}/v1/orders",
            args.duration,
            args.connections,
            ORDER,
            authorization,
            idempotency_prefix=f"bench-{uuid.uuid4().hex[:8]}",
        ),
    }
    hello = routes["GET /hello (baseline)"]["rps"]
    setup = f"{args.connections} connections, {args.duration}s per route, {os.cpu_count()} cores"
    print(f"wrk, 2 threads, {setup}\n")
    print("| route | req/s | p50 ms | p95 ms | p99 ms | errors | ratio to hello |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in routes.items():
        latency = f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f}"
        ratio = r["rps"] / hello
        print(f"| `{name}` | {r['rps']:.0f} | {latency} | {r['errors']:.0f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
