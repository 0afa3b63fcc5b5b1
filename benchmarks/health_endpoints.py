"""`hyperscale health` against N loopback endpoints, next to a sequential `curl` loop over the
same URLs; and its peak memory at several endpoint counts.

Run: .venv/bin/python benchmarks/health_endpoints.py [--endpoints 500] [--delays 0,25]
                                                     [--memory 100,500,2000] [--runs 3]

The endpoints are served by a small asyncio HTTP/1.1 server this script starts on 127.0.0.1 in
a process of its own. It is bounded: it answers at most --max-requests requests and lives at
most --max-seconds, then exits by itself. ``--delays`` adds that many milliseconds to every
answer: 0 measures the client alone; 25 is a readiness handler that pings its database, which
is what a health endpoint is. Each figure is the median of --runs wall times of the whole
command, start-up included (`hyperscale health` is run as a user runs it). Memory is the peak
RSS of the `hyperscale health` process (wait4's ru_maxrss).

The goal (issue 15): at least 20x faster than the curl loop at 500 endpoints, and memory flat
as endpoints grow from 100 to 2,000.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BODY = b'{"status":"ok"}'


# -- the bounded loopback server (run as `--serve`) ---------------------------------------------


async def _serve(port: int, delay_ms: float, max_requests: int, max_seconds: float) -> None:
    answered = 0
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        try:
            while not done.is_set():
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                if delay_ms:
                    await asyncio.sleep(delay_ms / 1000)
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
                )
                await writer.drain()
                answered += 1
                if answered >= max_requests:
                    done.set()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the server reached its bound and is closing
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    async with server:
        with contextlib.suppress(TimeoutError):  # the time bound: stop by itself
            await asyncio.wait_for(done.wait(), max_seconds)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    delay_ms: float, max_requests: int, max_seconds: float
) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    argv = [sys.executable, __file__, "--serve", str(port), "--delay-ms", str(delay_ms),
            "--max-requests", str(max_requests), "--max-seconds", str(max_seconds)]  # fmt: skip
    server = subprocess.Popen(argv)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server, port
        except OSError:
            time.sleep(0.05)
    server.kill()
    raise SystemExit("the benchmark server did not start")


# -- the two clients ----------------------------------------------------------------------------


def urls(port: int, count: int) -> list[str]:
    return [f"http://127.0.0.1:{port}/ep/{i}" for i in range(count)]


def health_argv(targets: list[str]) -> list[str]:
    argv = [sys.executable, "-m", "hyperscale", "health", "--env", "local", "--urls-only"]
    for url in targets:
        argv += ["--url", url]
    return [*argv, "--retry-interval", "0", "-o", "json"]


def run_health(targets: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one `hyperscale health` over ``targets``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    start = time.perf_counter()
    child = subprocess.Popen(health_argv(targets), stdout=subprocess.DEVNULL, env=env, cwd=ROOT)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"hyperscale health exited {child.returncode}: an endpoint was not up")
    return elapsed, int(usage.ru_maxrss)


def run_curl_loop(targets: list[str], url_file: Path) -> float:
    """One curl process per URL, one after the other: the shell loop it replaces."""
    url_file.write_text("\n".join(targets) + "\n")
    script = 'while read -r u; do curl -s -o /dev/null --max-time 5 "$u" || exit 1; done < "$1"'
    start = time.perf_counter()
    subprocess.run(["bash", "-c", script, "curl-loop", str(url_file)], check=True)
    return time.perf_counter() - start


# -- the report ---------------------------------------------------------------------------------


def speed(count: int, delays: list[float], runs: int, scratch: Path) -> None:
    print(f"\n{count} endpoints, median of {runs} runs (wall time, start-up included)")
    print(f"{'delay per answer':>18} {'hyperscale health':>18} {'curl loop':>12} {'ratio':>8}")
    for delay in delays:
        server, port = start_server(delay, max_requests=count * runs * 3, max_seconds=600)
        try:
            targets = urls(port, count)
            health = statistics.median(run_health(targets)[0] for _ in range(runs))
            curl = statistics.median(
                run_curl_loop(targets, scratch / "urls.txt") for _ in range(runs)
            )
        finally:
            server.terminate()
            server.wait(10)
        print(f"{delay:>15g} ms {health:>16.2f} s {curl:>10.2f} s {curl / health:>7.1f}x")


def memory(counts: list[int], runs: int) -> None:
    print(f"\npeak RSS of hyperscale health (median of {runs} runs), answers without delay")
    print(f"{'endpoints':>10} {'peak RSS':>10} {'wall':>8}")
    server, port = start_server(0, max_requests=sum(counts) * runs * 2, max_seconds=600)
    try:
        for count in counts:
            samples = [run_health(urls(port, count)) for _ in range(runs)]
            rss = statistics.median(s[1] for s in samples) / 1024
            wall = statistics.median(s[0] for s in samples)
            print(f"{count:>10} {rss:>7.1f} MiB {wall:>6.2f} s")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--endpoints", type=int, default=500)
    parser.add_argument("--delays", default="0,25", help="milliseconds per answer, comma separated")
    parser.add_argument("--memory", default="100,500,2000", help="endpoint counts, comma separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--delay-ms", type=float, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--max-requests", type=int, default=50_000, help=argparse.SUPPRESS)
    parser.add_argument("--max-seconds", type=float, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve, args.delay_ms, args.max_requests, args.max_seconds))
        return
    if shutil.which("curl") is None:
        raise SystemExit("curl is not installed (Debian package curl)")
    with tempfile.TemporaryDirectory(prefix="hyperscale-health-bench-") as scratch:
        speed(args.endpoints, [float(d) for d in args.delays.split(",")], args.runs, Path(scratch))
    memory([int(c) for c in args.memory.split(",")], args.runs)


if __name__ == "__main__":
    main()
