"""`hyperscale kafka lag -o json` against `kafka-consumer-groups.sh --describe --all-groups`.

Run (the broker up: `hyperscale local up kafka`):
    .venv/bin/python benchmarks/kafka_lag.py [--groups 50] [--topics 3] [--partitions 12] [--runs 5]

Builds 50 groups x 3 topics x 12 partitions of its own (every group behind on every partition,
at its own offset, so hyperscale also reads one record per group and partition for the time
lag), then runs both commands --runs times, interleaved, and prints the median wall time of
each, the ratio, hyperscale's peak RSS, and whether the two agree on the total lag. Both see
every group on the broker (hyperscale with its default `--group .*`). Goal (issue 5): >= 10x.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
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


def build_cluster(env: Environment, groups: int, topics: int, partitions: int) -> list[str]:
    from confluent_kafka import Consumer, Producer, TopicPartition
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
    rng = random.Random(5)
    for g in range(groups):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-lag-{run}-g{g}"})
        offsets = [
            TopicPartition(n, p, rng.randrange(RECORDS_PER_PARTITION))
            for n in names
            for p in range(partitions)
        ]
        consumer.commit(offsets=offsets, asynchronous=False)
        consumer.close()
    return names


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str, int]:
    """Wall seconds, stdout, and peak RSS in KiB of one run of ``argv``."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1: a threshold breached, still a full report
        raise SystemExit(f"{argv[0]} exited {proc.returncode}")
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
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--topics", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    app = AppContext.from_os()
    env = load_environment(app, args.env)
    build_cluster(env, args.groups, args.topics, args.partitions)

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
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    outputs: dict[str, str] = {}
    peak_kib: dict[str, int] = {}
    for _ in range(args.runs):
        for name, argv in commands.items():
            wall, out, rss = timed(argv, child_env)
            seconds[name].append(wall)
            outputs[name] = out
            peak_kib[name] = max(peak_kib.get(name, 0), rss)

    ours, apache = commands
    groups = len(json.loads(outputs[ours])["data"]["groups"])
    scale = f"{args.groups} groups x {args.topics} topics x {args.partitions} partitions"
    print(f"{os.cpu_count()} cores; {scale} built ({groups} groups on the broker in all)\n")
    print("| command | median s | min s | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for name, runs in seconds.items():
        rss = peak_kib[name] / 1024
        print(f"| {name} | {statistics.median(runs):.2f} | {min(runs):.2f} | {rss:.0f} |")
    ratio = statistics.median(seconds[apache]) / statistics.median(seconds[ours])
    print(f"\nApache / hyperscale = {ratio:.1f}x (goal >= 10x)")
    same = total_lag_hyperscale(outputs[ours]) == total_lag_apache(outputs[apache])
    print(f"total lag: hyperscale {total_lag_hyperscale(outputs[ours])},", end=" ")
    print(f"Apache {total_lag_apache(outputs[apache])} ({'equal' if same else 'DIFFERENT'})")


if __name__ == "__main__":
    main()
