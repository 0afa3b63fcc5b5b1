"""Dead-letter replay: `hyperscale kafka dlq replay` (exactly once) against a kcat pipeline.

Run (the local broker up: `hyperscale local up kafka`):
    .venv/bin/python benchmarks/dlq_replay.py [--small 20000] [--large 200000]

A DLQ of --large records (a 300-byte JSON value and this project's nine dead-letter headers,
over 6 partitions) is filled once. The baseline, `kcat -C ... -e | kcat -P ...` (Debian kcat),
copies its keys and values to a new topic: no headers, no timestamps, no transactions, no
checkpoint, so it does less than the replay. The replay sends every record back to its original
topic and partition with key, value, headers and timestamp, in transactions that also commit
its checkpoint. Both are timed from start to exit, as a user runs them. The replay's peak RSS is
taken at --small, --large and --largest: it streams, so once the client's bounded queues
(16 MiB of prefetch, 16 MiB of outgoing records) are full it should not grow with the DLQ.
Goal (issue 5): replay at least as fast as the kcat pipeline (ratio >= 1.0); issue 20 set it
at 0.5. The floor (benchmarks/dlq_replay_floor.py) is the least an exactly-once copy in Python
with the same client library does, timed the same way: how close any replay here can come.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext

PARTITIONS = 6
ROOT = Path(__file__).resolve().parent.parent
#: Runs a command and prints its peak RSS in KiB (the child's, measured by the kernel).
PEAK_RSS = (
    "import resource, subprocess, sys;"
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode;"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
    "sys.exit(code)"
)


def create(bootstrap: str, names: list[str]) -> None:
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(n, PARTITIONS, 1) for n in names]).values():
        future.result(30)


def fill(bootstrap: str, dlq: str, origin: str, count: int) -> None:
    from confluent_kafka import Producer
    from platform_events.dlq import DeadLetterHeaders

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 1_000_000})
    now = int(time.time() * 1000)
    for i in range(count):
        value = json.dumps(
            {
                "order_id": str(uuid.UUID(int=i)),
                "customer": f"c-{i % 977}",
                "lines": [
                    {"sku": f"SKU-{i % 131:05d}", "qty": 1 + i % 3, "price_cents": 1299 + i % 500}
                ],
                "note": "x" * 120,
            }
        ).encode()
        headers = DeadLetterHeaders(
            original_topic=origin,
            original_partition=i % PARTITIONS,
            original_offset=i,
            original_timestamp_ms=now - 60_000,
            consumer_group="platform-consumer",
            exception_class="pydantic_core.ValidationError",
            exception_message="1 validation error for OrderCreated: lines.0.qty",
            attempts=3,
            failed_at_ms=now - 30_000,
        ).encode()
        while True:
            try:
                producer.produce(
                    dlq, key=b"order-%d" % i, value=value, headers=headers,
                    partition=i % PARTITIONS, timestamp=now - 60_000 + i % 1000,
                )  # fmt: skip
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0


def timed(command: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MiB) of a command run to its end."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS, *command], capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, int(done.stdout.strip().splitlines()[-1]) // 1024


def kcat_pipeline(bootstrap: str, source: str, target: str) -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S602 - a shell pipeline is the baseline being measured
        f"kcat -C -b {bootstrap} -t {source} -o beginning -e -q -f '%k\\t%s\\n'"
        f" | kcat -P -b {bootstrap} -t {target} -K '\\t'",
        shell=True,
        check=True,
    )
    return time.perf_counter() - started


def count(bootstrap: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-count"})
    try:
        return sum(
            consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
            for p in range(PARTITIONS)
        )
    finally:
        consumer.close()


def replay_once(bootstrap: str, records: int) -> tuple[float, int, str, str]:
    run = uuid.uuid4().hex[:8]
    origin, dlq = f"bench-orders-{run}", f"bench-orders-{run}.dlq"
    create(bootstrap, [origin, dlq])
    fill(bootstrap, dlq, origin, records)
    hyperscale = str(ROOT / ".venv" / "bin" / "hyperscale")
    seconds, rss = timed([hyperscale, "kafka", "dlq", "replay", dlq, "-o", "json"])
    if count(bootstrap, origin) < records:
        sys.exit(f"the replay sent fewer than {records} records to {origin}")
    return seconds, rss, dlq, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=20_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument(
        "--largest", type=int, default=400_000, help="a third size: is the RSS flat past --large?"
    )
    args = parser.parse_args()
    env = load_environment(AppContext.from_os(), os.environ.get("HYPERSCALE_ENV", "local"))
    bootstrap = env.kafka.bootstrap

    _, small_rss, _, _ = replay_once(bootstrap, args.small)
    large_s, large_rss, dlq, run = replay_once(bootstrap, args.large)
    _, largest_rss, _, _ = replay_once(bootstrap, args.largest)
    kcat_target = f"bench-kcat-{run}"
    create(bootstrap, [kcat_target])
    kcat_s = kcat_pipeline(bootstrap, dlq, kcat_target)
    if count(bootstrap, kcat_target) < args.large:
        sys.exit("the kcat pipeline copied fewer records than the DLQ holds")
    floor_target = f"bench-floor-{run}"
    create(bootstrap, [floor_target])
    floor = [str(ROOT / "benchmarks" / "dlq_replay_floor.py"), bootstrap, dlq, floor_target]
    floor_s, _ = timed([sys.executable, *floor, str(args.large)])
    if count(bootstrap, floor_target) < args.large:
        sys.exit("the floor loop copied fewer records than the DLQ holds")

    print(f"records                      {args.large:>10,}")
    print(f"kcat -C | kcat -P            {kcat_s:>9.2f}s  {args.large / kcat_s:>9,.0f} records/s")
    print(f"hyperscale kafka dlq replay  {large_s:>9.2f}s  {args.large / large_s:>9,.0f} records/s")
    print(f"ratio (kcat time / replay)   {kcat_s / large_s:>9.2f}x   (goal >= 0.5, issue 20)")
    print(f"floor: bare Python EOS loop  {floor_s:>9.2f}s  {args.large / floor_s:>9,.0f} records/s")
    print(f"ratio (kcat time / floor)    {kcat_s / floor_s:>9.2f}x")
    print(f"replay peak RSS  {args.small:>7,} records: {small_rss} MiB")
    print(f"replay peak RSS  {args.large:>7,} records: {large_rss} MiB")
    print(f"replay peak RSS  {args.largest:>7,} records: {largest_rss} MiB")


if __name__ == "__main__":
    main()
