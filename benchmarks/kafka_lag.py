"""`hyperscale kafka lag -o json` against `kafka-consumer-groups.sh --describe --all-groups`.

Run (the broker up: `hyperscale local up kafka`):
    .venv/bin/python benchmarks/kafka_lag.py [--groups 50,500,2000] [--topics 3] [--partitions 12]
        [--runs 5]

For each count in --groups, adds groups up to that count on one set of topics (3 topics x 12
partitions by default; every group behind on every partition at its own offset, so hyperscale
also reads one record per group and partition for the time lag), then runs both commands --runs
times, interleaved, and prints the median wall time of each, the ratio, the peak RSS of each,
the median time of a scrape of `kafka lag --serve` that reads the broker afresh, and whether
the two tools agree on the total lag. Both see every group on the broker (hyperscale with its
default `--group .*`), so run it on a broker of its own. Goals (issue 20): >= 10x at 500 groups
and beyond, memory flat, a scrape of 2,000 groups in under 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local.services.kafka import KafkaRuntime

APACHE_GROUP_COMMAND = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand"
RECORDS_PER_PARTITION = 200


def build_topics(env: Environment, topics: int, partitions: int) -> list[str]:
    from confluent_kafka import Producer
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    run = uuid.uuid4().hex[:8]
    bootstrap = env.kafka.bootstrap
    names = [f"bench-lag-{run}-t{i}" for i in range(topics)]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(n, partitions, 1) for n in names]).values():
        future.result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    start_ms = int(time.time() * 1000) - RECORDS_PER_PARTITION * 1000
    for name in names:
        for partition in range(partitions):
            for i in range(RECORDS_PER_PARTITION):
                producer.produce(name, b"x", partition=partition, timestamp=start_ms + i * 1000)
    producer.flush(60)
    return names


def add_groups(env: Environment, names: list[str], first: int, last: int, partitions: int) -> None:
    """Groups ``first`` .. ``last - 1``, each behind on every partition at its own offset."""
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    rng = random.Random(first)
    prefix = names[0].rsplit("-", 1)[0]
    for g in range(first, last):
        consumer = Consumer(
            {"bootstrap.servers": env.kafka.bootstrap, "group.id": f"{prefix}-g{g}"}
        )
        offsets = [
            TopicPartition(n, p, rng.randrange(RECORDS_PER_PARTITION))
            for n in names
            for p in range(partitions)
        ]
        for attempt in range(30):  # a new broker creates __consumer_offsets on the first commit
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
                break
            except KafkaException:
                if attempt == 29:
                    raise
                time.sleep(1)
        consumer.close()


def scrape_seconds(
    hyperscale: str, env_name: str, child_env: dict[str, str], runs: int
) -> tuple[float, float]:
    """`kafka lag --serve` as deployed (background readings every 5 s): the median seconds a
    scrape takes to be answered, and how long the exporter's last reading of the broker took."""
    import gzip
    import socket
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [hyperscale, "kafka", "lag", "--env", env_name, "--serve", str(port), "--interval", "5"]
    server = subprocess.Popen(
        argv, env=child_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/metrics"

    def scrape() -> bytes:
        # As Prometheus asks: gzip accepted (the text is ~50 MB at 2,000 groups, ~2 MB gzipped).
        asked = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(asked, timeout=120) as reply:
            return bytes(reply.read())

    try:
        deadline = time.monotonic() + 120
        while True:  # the first scrape waits for the server to listen and the first reading
            try:
                scrape()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        times, reading = [], 0.0
        for _ in range(runs):
            start = time.perf_counter()
            packed = scrape()
            times.append(time.perf_counter() - start)  # the answer, not our decompression
            for line in gzip.decompress(packed).decode().splitlines():
                if line.startswith("hyperscale_kafka_lag_exporter_scrape_duration_seconds "):
                    reading = float(line.split()[1])
            time.sleep(1)
        return statistics.median(times), reading
    finally:
        server.terminate()
        server.wait(30)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str, int]:
    """Wall seconds, stdout, and peak RSS in KiB of one run of ``argv``."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, env=env)
        assert proc.stdout is not None
        out = proc.stdout.read().decode()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - start
        if proc.returncode not in (0, 1):  # 1: a threshold breached, still a full report
            errors.seek(0)
            said = errors.read().decode(errors="replace").strip().splitlines()[-3:]
            raise SystemExit(f"{argv[0]} exited {proc.returncode}: {' | '.join(said)}")
    return seconds, out, usage.ru_maxrss


def total_lag_hyperscale(out: str) -> int:
    return sum(g["lag_messages"] for g in json.loads(out)["data"]["groups"])


def total_lag_apache(out: str) -> int:
    total = 0
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[5].isdigit() and fields[2].isdigit():
            total += int(fields[5])
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--env", default="local")
    parser.add_argument(
        "--groups", default="50", help="comma-separated group counts, measured in turn: 50,500,2000"
    )
    parser.add_argument("--topics", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = AppContext.from_os()
    env = load_environment(app, args.env)
    names = build_topics(env, args.topics, args.partitions)

    hyperscale = str(Path(sys.executable).parent / "hyperscale")
    lag = [hyperscale, "kafka", "lag", "-o", "json", "--env", args.env]
    commands = {
        "hyperscale kafka lag -o json": lag,
        "kafka-consumer-groups --describe --all-groups": KafkaRuntime(app).java_command(
            APACHE_GROUP_COMMAND,
            "--bootstrap-server",
            env.kafka.bootstrap,
            "--describe",
            "--all-groups",
        ),
    }
    child_env = {**os.environ, "NO_COLOR": "1"}
    # The floor under any `kafka lag` in this stack: the interpreter starting and importing what
    # the command imports, before it asks the broker anything.
    start_only = [sys.executable, "-c", "import hyperscale.cli, hyperscale.kafka.lag.core"]
    start_s = statistics.median(timed(start_only, child_env)[0] for _ in range(args.runs))
    print(f"Python start + the command's imports (median of {args.runs}): {start_s:.2f} s\n")
    print(f"{os.cpu_count()} cores; {args.topics} topics x {args.partitions} partitions\n")
    print(
        "| groups on the broker | hyperscale median s | Apache median s | Apache / hyperscale |"
        " 10x needs s | hyperscale peak RSS MiB | Apache peak RSS MiB | `--serve` scrape s |"
        " its reading s | total lag |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    built = 0
    for wanted in (int(x) for x in args.groups.split(",")):
        add_groups(env, names, built, wanted, args.partitions)
        built = wanted
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        outputs: dict[str, str] = {}
        peak_kib: dict[str, int] = {}
        for _ in range(args.runs):
            for name, argv in commands.items():
                wall, out, rss = timed(argv, child_env)
                seconds[name].append(wall)
                outputs[name] = out
                peak_kib[name] = max(peak_kib.get(name, 0), rss)
        scrape, reading = scrape_seconds(hyperscale, args.env, child_env, args.runs)
        ours, apache = commands
        groups = len(json.loads(outputs[ours])["data"]["groups"])
        ratio = statistics.median(seconds[apache]) / statistics.median(seconds[ours])
        same = total_lag_hyperscale(outputs[ours]) == total_lag_apache(outputs[apache])
        theirs = total_lag_apache(outputs[apache])
        agree = f"{total_lag_hyperscale(outputs[ours])} ({'equal' if same else f'Apache {theirs}'})"
        print(
            f"| {groups} | {statistics.median(seconds[ours]):.2f} |"
            f" {statistics.median(seconds[apache]):.2f} | {ratio:.1f}x |"
            f" {statistics.median(seconds[apache]) / 10:.2f} |"
            f" {peak_kib[ours] / 1024:.0f} | {peak_kib[apache] / 1024:.0f} |"
            f" {scrape:.3f} | {reading:.2f} |"
            f" {agree} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
