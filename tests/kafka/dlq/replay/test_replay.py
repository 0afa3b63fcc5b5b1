"""`hyperscale kafka dlq replay` against the real local broker: routing, exactly once across
SIGKILLs, filters, the loop guard, dry runs and bad input."""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from platform_events.dlq import DeadLetterHeaders

from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.dlq.replay.routing import PARKED_FROM, PARKED_REASON
from tests.conftest import invoke
from tests.kafka.support import (
    OpenRanges,
    OpenTransactions,
    Record,
    committed_in,
    committed_total,
    create_topic,
    high_watermarks,
    java_partition,
    produce_records,
    read_all,
)
from tests.support import free_port, wait_for

pytestmark = pytest.mark.kafka

REPLAY_COUNT = "hyperscale.dlq.replay-count"


def now_ms() -> int:
    return int(time.time() * 1000)


def ours(
    origin: str,
    partition: int,
    offset: int,
    exception: str = "KeyError",
    message: str | None = None,
) -> list[Any]:
    return DeadLetterHeaders(
        original_topic=origin,
        original_partition=partition,
        original_offset=offset,
        original_timestamp_ms=now_ms() - 60_000,
        consumer_group="orders-svc",
        exception_class=exception,
        exception_message=message or f"failed on {offset}",
        attempts=3,
        failed_at_ms=now_ms() - 30_000,
    ).encode()


def replay(app: AppContext, *args: str) -> tuple[int, dict[str, Any]]:
    outcome = invoke(app, "kafka", "dlq", "replay", "-o", "json", *args)
    return outcome.exit_code, json.loads(outcome.stdout)


def without_replay_count(headers: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    return [h for h in headers if h[0] != REPLAY_COUNT]


def test_records_go_back_to_their_topic_and_partition_byte_for_byte_once(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 4)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 2)
    base = now_ms() - 120_000
    records: list[Record] = [
        (
            b"k%d" % i,
            b"\x00\xffvalue-%d" % i,
            [*ours(origin, i % 4, i), ("trace", b"t%d" % i)],
            base + i,
            i % 2,
        )
        for i in range(40)
    ]
    records.append((None, None, [*ours(origin, 3, 99), ("tombstone", b"yes")], base + 40, 0))
    produce_records(bootstrap, dlq, records)

    code, document = replay(isolated_app, dlq)

    assert code == ExitCode.OK, document
    data = document["data"]
    assert (data["read"], data["sent"], data["parked"], data["skipped_by_filter"]) == (41, 41, 0, 0)
    assert data["sent_by_topic"] == {origin: 41}
    assert data["exactly_once"] is True
    replayed = read_all(bootstrap, origin)
    assert len(replayed) == 41
    by_key_value = {(r[0], r[1]): r for r in replayed}
    for key, value, headers, timestamp, _ in records:
        _got_key, _got_value, got_headers, got_timestamp, got_partition = by_key_value[(key, value)]
        assert without_replay_count(got_headers) == headers
        assert dict(got_headers)[REPLAY_COUNT] == b"1"
        assert got_timestamp == timestamp
        assert got_partition == int(dict(headers)["hyperscale.dlq.original-partition"])

    again_code, again = replay(isolated_app, dlq)
    assert again_code == ExitCode.OK
    assert (again["data"]["read"], again["data"]["sent"]) == (0, 0)
    assert again["data"]["group"] == data["group"]
    assert len(read_all(bootstrap, origin)) == 41


#: Kills that must land inside an open transaction, and the runs allowed to get them.
KILLS_INSIDE = 5
RUNS_AT_MOST = 12


def test_sigkill_inside_open_transactions_then_resume_sends_each_record_exactly_once(
    bootstrap: str, prefix: str
) -> None:
    """Runs killed with SIGKILL at random points of their progress until five kills are seen
    to have landed inside an open transaction (its records on the broker, uncommitted) that the
    next run then aborted; that next run goes to the end. A read_committed reader sees every
    dead letter once, with its key, value and headers."""
    total = 20_000
    origin = create_topic(bootstrap, f"{prefix}-orders", 3)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 3)
    base = now_ms() - 600_000
    records: list[Record] = [
        (
            b"key-%d" % i,
            b"value-%d" % i,
            [*ours(origin, i % 3, i), ("id", b"%d" % i)],
            base + i,
            i % 3,
        )
        for i in range(total)
    ]
    produce_records(bootstrap, dlq, records)
    seed = int(os.environ.get("REPLAY_KILL_SEED", time.time()))
    rng = random.Random(seed)
    group = f"{prefix}-replay"
    command = [
        sys.executable, "-m", "hyperscale", "kafka", "dlq", "replay", dlq,
        "--group", group, "--rate", "2000", "--transaction-size", "400", "-o", "json",
    ]  # fmt: skip
    transactions = OpenTransactions(bootstrap, origin)
    inside: list[OpenRanges] = []  # the kills that landed inside a transaction, now aborted
    killed_in: OpenRanges = {}  # the last kill's open transaction, until the next run ends it
    history: list[str] = []

    def checkpoint() -> int:
        return committed_total(bootstrap, group, dlq, 3)

    def context() -> str:
        return f"seed {seed} (REPLAY_KILL_SEED); runs: {history}"

    for _run in range(RUNS_AT_MOST):
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        # A random point of progress; reaching it means this run committed, so it has fenced
        # the killed run and aborted its transaction (or seen it commit) first.
        point = checkpoint() + rng.randint(1, 1000)
        until(process, lambda point=point: checkpoint() >= point, "progress", 0.02)
        assert process.poll() is None, f"{process.communicate()[1]}\n{context()}"
        if killed_in:
            wait_for(partial(transactions.ended, killed_in), 30, "the killed run's transaction")
            aborted = not committed_in(bootstrap, origin, killed_in)
            history.append(f"killed inside {killed_in}: {'aborted' if aborted else 'committed'}")
            if aborted:
                inside.append(killed_in)
        if len(inside) == KILLS_INSIDE:
            break  # this run goes to the end
        # ... and a random depth into a transaction (of 400 records at most).
        depth = rng.randint(1, 300)
        until(process, lambda depth=depth: open_records(transactions) >= depth, "depth", 0.005)
        process.kill()
        process.communicate(timeout=30)
        # Still open after the kill: the run died inside it (else it had just ended).
        killed_in = transactions.ranges()
        history.append(f"checkpoint {checkpoint()}, open {killed_in or 'none'}")
    else:
        pytest.fail(f"fewer than {KILLS_INSIDE} kills inside a transaction: {context()}")

    _out, err = process.communicate(timeout=120)

    assert process.returncode == ExitCode.OK, f"{context()}: {err}"
    replayed = read_all(bootstrap, origin, read_committed=True)
    ids = sorted(int(dict(r[2])["id"]) for r in replayed)
    assert ids == list(range(total)), f"lost or doubled records: {context()}"
    originals = {r[0]: r for r in records}
    for key, value, headers, timestamp, partition in replayed:
        assert key is not None
        _o_key, o_value, o_headers, o_timestamp, _ = originals[key]
        assert (value, without_replay_count(headers), timestamp) == (
            o_value,
            o_headers,
            o_timestamp,
        )
        assert partition == int(dict(o_headers)["hyperscale.dlq.original-partition"])
    assert checkpoint() == total


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_commits_what_was_sent_and_exits_130_with_the_report(
    bootstrap: str, prefix: str, stop: signal.Signals
) -> None:
    total, rate = 3000, 50
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    produce_records(
        bootstrap, dlq, [(b"%d" % i, b"v", ours(origin, 0, i), now_ms(), 0) for i in range(total)]
    )
    command = [sys.executable, "-m", "hyperscale", "kafka", "dlq", "replay", dlq, "-o", "json"]
    # The rate limit keeps this run going for (total - burst) / rate seconds at least after
    # it starts, so a signal sent sooner lands inside it: checked below, not assumed.
    shortest_run = (total - rate * 0.1) / rate
    started = time.monotonic()
    process = subprocess.Popen(
        [*command, "--rate", str(rate)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    group = _group_of(dlq)
    until(process, lambda: committed_total(bootstrap, group, dlq, 1) > 0, "a checkpoint", 0.2)
    process.send_signal(stop)
    signalled_after = time.monotonic() - started
    out, err = process.communicate(timeout=60)

    assert signalled_after < shortest_run, "the signal came too late to prove anything"
    assert process.returncode == ExitCode.INTERRUPTED, (out, err)
    first = json.loads(out)["data"]
    assert first["interrupted"] is True
    sent = first["sent"]
    assert 0 < sent < total
    assert (first["to_read"], first["read"], first["remaining"]) == (total, sent, total - sent)
    assert committed_total(bootstrap, group, dlq, 1) == sent  # its checkpoint is committed
    assert len(read_all(bootstrap, origin)) == sent
    # The same selection without the rate limit: the same checkpoint, so it goes on from it.
    rest = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert rest.returncode == ExitCode.OK, rest.stderr
    finished = json.loads(rest.stdout)["data"]
    assert (finished["sent"], finished["remaining"]) == (total - sent, 0)
    assert sorted(int(r[0] or b"") for r in read_all(bootstrap, origin)) == list(range(total))


def open_records(transactions: OpenTransactions) -> int:
    """Records on the broker in transactions not ended yet."""
    return sum(high - stable for stable, high in transactions.ranges().values())


def until(
    process: subprocess.Popen[str], condition: Callable[[], Any], what: str, interval: float
) -> None:
    """Wait until ``condition`` holds or ``process`` has ended."""
    wait_for(lambda: process.poll() is not None or condition(), 60, what, interval)


def catches(pid: int, signum: int) -> bool:
    """Whether the process has a handler for ``signum`` (Linux: SigCgt in /proc/PID/status)."""
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signum - 1) & 1)


def test_a_second_ctrl_c_aborts_the_open_transaction(bootstrap: str, prefix: str) -> None:
    """The first Ctrl-C asks the run to stop after the record it is on; the second does not
    wait: the open transaction is aborted at once (not left open for the broker to time out),
    so nothing of it is visible and the checkpoint did not move.

    On a busy machine the first Ctrl-C can finish the run (commit and report) before the
    second arrives; such an attempt proves nothing about the second, so it is tried again on
    fresh topics, and only an attempt whose second Ctrl-C landed is judged."""
    for attempt in range(4):
        if _second_ctrl_c_attempt(bootstrap, f"{prefix}-{attempt}"):
            return
    pytest.fail("in 4 attempts the second Ctrl-C never reached a run still in its transaction")


def _second_ctrl_c_attempt(bootstrap: str, prefix: str) -> bool:
    """One attempt; False when the first Ctrl-C had already ended the run."""
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    total = 20
    produce_records(
        bootstrap, dlq, [(b"%d" % i, b"v", ours(origin, 0, i), now_ms(), 0) for i in range(total)]
    )
    command = [sys.executable, "-m", "hyperscale", "kafka", "dlq", "replay", dlq]
    transactions = OpenTransactions(bootstrap, origin)
    # At 0.01 records/s the first record goes at once, in a new transaction, and the second
    # waits 100 s for its turn: the first Ctrl-C finds the run there, transaction open, and
    # the run stays there (a graceful stop finishes the record it is on) long after the
    # second arrives, however slowly a busy machine lets this test see the transaction.
    process = subprocess.Popen(
        [*command, "--rate", "0.01"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        opened = wait_for(
            lambda: process.poll() is not None or transactions.ranges(), 60, "an open transaction"
        )
        assert process.poll() is None, process.communicate()
        assert catches(process.pid, signal.SIGTERM)  # the replay's stop handler is in place
        process.send_signal(signal.SIGINT)
        # The first Ctrl-C was handled when the handler gave SIGTERM back to its default.
        wait_for(
            lambda: process.poll() is not None or not catches(process.pid, signal.SIGTERM),
            30,
            "the first Ctrl-C to be handled",
            0.01,
        )
        if process.poll() is not None or transactions.ranges() != opened:
            return False  # the first Ctrl-C already finished the run
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    if err.strip().splitlines() != ["error: interrupted by the user"]:
        return False  # the run was ending by the first Ctrl-C when the second came

    assert process.returncode == ExitCode.INTERRUPTED, (out, err)
    # Aborted by the run itself: a transaction it had left open would stay open for its 60 s
    # timeout, as a SIGKILL leaves it.
    wait_for(lambda: not transactions.ranges(), 15, "the open transaction to be aborted", 0.05)
    assert read_all(bootstrap, origin) == []
    [(start, end)] = opened.values()
    assert len(read_all(bootstrap, origin, read_committed=False)) == end - start  # written
    assert committed_total(bootstrap, _group_of(dlq), dlq, 1) == 0
    rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == ExitCode.OK, rerun.stderr
    assert sorted(int(r[0] or b"") for r in read_all(bootstrap, origin)) == list(range(total))
    return True


def test_dry_run_shows_each_record_and_its_destination_and_moves_nothing(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 2)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    tired = [*ours(origin, 1, 7), (REPLAY_COUNT, b"3")]
    produce_records(
        bootstrap,
        dlq,
        [(b"a", b"1", ours(origin, 1, 5), now_ms(), 0), (b"b", b"2", tired, now_ms(), 0)],
    )

    code, document = replay(isolated_app, dlq, "--dry-run")

    assert code == ExitCode.OK, document
    data = document["data"]
    assert data["dry_run"] is True
    sent, parked = data["planned"]
    assert (sent["action"], sent["target"], sent["key"]) == (
        "send",
        {"topic": origin, "partition": 1},
        "a",
    )
    assert {"name": REPLAY_COUNT, "value": "1", "encoding": "utf-8"} in sent["headers"]
    assert (parked["action"], parked["reason"]) == ("park", "max-attempts")
    assert parked["target"]["topic"] == f"{dlq}.parking"
    assert read_all(bootstrap, origin) == []
    assert committed_total(bootstrap, data["group"], dlq, 1) == 0


def test_filters_pick_records_limit_stops_and_a_new_selection_starts_over(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    records: list[Record] = []
    for i in range(20):
        exception = "pydantic_core.ValidationError" if i % 2 else "KeyError"
        headers = [
            *ours(origin, 0, 100 + i, exception),
            ("tenant", b"acme" if i < 10 else b"umbrella"),
        ]
        records.append((b"order-%d" % i, b"v%d" % i, headers, now_ms(), 0))
    produce_records(bootstrap, dlq, records)

    code, first = replay(
        isolated_app, dlq, "--exception", "Validation", "--header", "tenant=^acme$", "--limit", "3"
    )
    assert code == ExitCode.OK, first
    assert (first["data"]["sent"], first["data"]["limit_reached"]) == (3, True)
    code, rest = replay(isolated_app, dlq, "--exception", "Validation", "--header", "tenant=^acme$")
    assert code == ExitCode.OK, rest
    assert rest["data"]["group"] == first["data"]["group"]
    assert rest["data"]["sent"] == 2  # odd i below 10: 1, 3, 5, 7, 9
    keys = sorted(r[0] for r in read_all(bootstrap, origin))
    assert keys == [b"order-%d" % i for i in (1, 3, 5, 7, 9)]

    code, other = replay(isolated_app, dlq, "--key", "^order-1[0-9]$", "--offsets", "112-115")
    assert code == ExitCode.OK, other
    assert other["data"]["group"] != first["data"]["group"]
    assert (other["data"]["read"], other["data"]["sent"]) == (20, 4)
    assert other["data"]["skipped_by_filter"] == 16


def test_loop_guard_parks_what_would_loop_or_has_nowhere_to_go(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    records: list[Record] = [
        (b"fresh", b"1", [*ours(origin, 0, 1), (REPLAY_COUNT, b"1")], now_ms(), 0),
        (b"tired", b"2", [*ours(origin, 0, 2), (REPLAY_COUNT, b"2")], now_ms(), 0),
        (b"orphan", b"3", [("trace", b"x")], now_ms(), 0),
        (b"gone", b"4", ours(f"{prefix}-deleted", 0, 4), now_ms(), 0),
        (b"loop", b"5", ours(dlq, 0, 5), now_ms(), 0),
    ]
    produce_records(bootstrap, dlq, records)

    code, document = replay(isolated_app, dlq, "--max-attempts", "2")

    assert code == ExitCode.OK, document
    data = document["data"]
    assert data["sent"] == 1
    assert data["parked_by_reason"] == {
        "max-attempts": 1,
        "no-origin": 1,
        "origin-missing": 1,
        "origin-is-dlq": 1,
    }
    assert data["created_topics"] == [f"{dlq}.parking"]
    (fresh,) = read_all(bootstrap, origin)
    assert dict(fresh[2])[REPLAY_COUNT] == b"2"
    parked = {r[0]: dict(r[2]) for r in read_all(bootstrap, f"{dlq}.parking")}
    assert parked[b"tired"][PARKED_REASON] == b"max-attempts"
    assert parked[b"tired"][REPLAY_COUNT] == b"2"  # parking does not count as a replay
    assert parked[b"orphan"][PARKED_REASON] == b"no-origin"
    assert parked[b"gone"][PARKED_REASON] == b"origin-missing"
    assert parked[b"loop"][PARKED_REASON] == b"origin-is-dlq"


def test_spring_and_connect_dead_letters_go_back_to_their_topics(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    payments = create_topic(bootstrap, f"{prefix}-payments", 8)
    clicks = create_topic(bootstrap, f"{prefix}-clicks", 2)
    dlq = create_topic(bootstrap, f"{prefix}-mixed.dlq", 1)
    spring = [
        ("kafka_dlt-original-topic", payments.encode()),
        ("kafka_dlt-original-partition", struct.pack(">i", 5)),
        ("kafka_dlt-original-offset", struct.pack(">q", 9_000_000_001)),
        ("kafka_dlt-exception-fqcn", b"java.lang.IllegalStateException"),
    ]
    connect = [
        ("__connect.errors.topic", clicks.encode()),
        ("__connect.errors.partition", b"1"),
        ("__connect.errors.exception.class.name", b"org.apache.kafka.connect.errors.DataException"),
    ]
    malformed = [
        ("kafka_dlt-original-topic", payments.encode()),
        ("kafka_dlt-original-partition", b"x"),
    ]
    produce_records(
        bootstrap,
        dlq,
        [
            (b"s", b"spring", spring, now_ms(), 0),
            (b"c", b"connect", connect, now_ms(), 0),
            (b"m", b"malformed", malformed, now_ms(), 0),
        ],
    )

    code, document = replay(isolated_app, dlq, "--exception", "IllegalState|DataException")

    assert code == ExitCode.OK, document
    assert document["data"]["sent_by_topic"] == {payments: 1, clicks: 1}
    assert [(r[0], r[4]) for r in read_all(bootstrap, payments)] == [(b"s", 5)]
    assert [(r[0], r[4]) for r in read_all(bootstrap, clicks)] == [(b"c", 1)]
    code, rest = replay(isolated_app, dlq, "--key", "^m$")  # malformed partition: the key decides
    assert code == ExitCode.OK, rest
    assert sorted(r[0] for r in read_all(bootstrap, payments)) == [b"m", b"s"]


def test_rate_limits_hold(bootstrap: str, isolated_app: AppContext, prefix: str) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    produce_records(
        bootstrap, dlq, [(b"k", b"x" * 1000, ours(origin, 0, i), now_ms(), 0) for i in range(60)]
    )

    code, by_records = replay(isolated_app, dlq, "--rate", "50", "--limit", "30")
    assert code == ExitCode.OK, by_records
    # 30 records at 50/s with a burst of 5: at least (30 - 5) / 50 s.
    assert by_records["data"]["elapsed_s"] >= 0.45
    code, by_bytes = replay(isolated_app, dlq, "--byte-rate", "20KB")
    assert code == ExitCode.OK, by_bytes
    assert by_bytes["data"]["sent"] == 30
    # ~30 kB at 20 kB/s with a 2 kB burst: at least 1.4 s.
    assert by_bytes["data"]["elapsed_s"] >= 1.3


def test_bad_input_gets_one_clear_line_and_the_right_exit_code(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    cases = [
        (["--to", dlq], ExitCode.USAGE, "refusing to replay into"),
        (["--to", f"{prefix}-other.dlq"], ExitCode.USAGE, "refusing to replay into"),
        (["--to", f"{prefix}-nowhere"], ExitCode.USAGE, f"no topic {prefix}-nowhere"),
        (["--offsets", "9-2"], ExitCode.USAGE, "9 is after 2"),
        (["--exception", "("], ExitCode.USAGE, "not a valid regex"),
        (["--byte-rate", "lots"], ExitCode.USAGE, "byte rate"),
        (["--since", "yesterday"], ExitCode.USAGE, "neither an ISO 8601 time nor an age"),
    ]
    for args, exit_code, words in cases:
        outcome = invoke(isolated_app, "kafka", "dlq", "replay", dlq, *args)
        assert outcome.exit_code == exit_code, (args, outcome)
        assert words in outcome.stderr + outcome.stdout, (args, outcome)
        assert "Traceback" not in outcome.stderr
    missing = invoke(isolated_app, "kafka", "dlq", "replay", f"{prefix}-none.dlq")
    assert missing.exit_code == ExitCode.USAGE
    assert f"no topic {prefix}-none.dlq" in missing.stderr
    port = free_port()
    down = invoke(
        isolated_app, "kafka", "dlq", "replay", "--bootstrap", f"127.0.0.1:{port}", "--timeout", "1"
    )
    assert down.exit_code == ExitCode.EXTERNAL
    assert down.stderr.count("\n") == 1
    assert "unreachable" in down.stderr


def test_prod_needs_yes_before_anything_is_sent(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "kafka", "dlq", "replay", "--env", "prod")
    assert outcome.exit_code == ExitCode.USAGE
    assert "prod is protected" in outcome.stderr
    assert "--yes" in outcome.stderr


def test_waiting_for_the_checkpoint_survives_a_parallel_replay_fence(
    bootstrap: str, prefix: str
) -> None:
    """Two replays of the same selection at once: the second fences the first, which stops
    with exit 3 and one line; together they still send every record once."""
    total, rate = 2000, 20
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    produce_records(
        bootstrap, dlq, [(b"%d" % i, b"v", ours(origin, 0, i), now_ms(), 0) for i in range(total)]
    )
    command = [
        sys.executable, "-m", "hyperscale", "kafka", "dlq", "replay", dlq,
        "--transaction-size", "100",
    ]  # fmt: skip
    # The first is held back by its rate limit: it cannot be done sooner than this after it
    # starts, so a second run over before then met it mid-replay (checked, not assumed). The
    # second, without --rate, is the same selection: the same checkpoint group.
    shortest_run = (total - rate * 0.1) / rate
    started = time.monotonic()
    first = subprocess.Popen(
        [*command, "--rate", str(rate)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    until(first, lambda: committed_total(bootstrap, _group_of(dlq), dlq, 1) > 0, "a commit", 0.2)
    second = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    second_done = time.monotonic() - started
    out, err = first.communicate(timeout=60)

    assert second_done < shortest_run, "the second run ended too late to prove anything"
    assert second.returncode == ExitCode.OK, second.stderr
    assert first.returncode == ExitCode.EXTERNAL, (out, err)
    assert "took over" in out + err
    assert sorted(int(r[0] or b"") for r in read_all(bootstrap, origin)) == list(range(total))


def test_to_sends_every_record_to_that_topic_placed_by_key_as_java_does(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    orders = create_topic(bootstrap, f"{prefix}-orders", 4)
    payments = create_topic(bootstrap, f"{prefix}-payments", 2)
    retry = create_topic(bootstrap, f"{prefix}-retry", 3)
    dlq = create_topic(bootstrap, f"{prefix}-mixed.dlq", 1)
    records: list[Record] = [
        *[(b"order-%d" % i, b"o%d" % i, ours(orders, 3, i), now_ms(), 0) for i in range(12)],
        *[(b"pay-%d" % i, b"p%d" % i, ours(payments, 1, i), now_ms(), 0) for i in range(6)],
        (b"no-origin", b"n", [("trace", b"t")], now_ms(), 0),  # --to is where it goes
        (b"gone", b"g", ours(f"{prefix}-deleted", 0, 1), now_ms(), 0),
        (b"tired", b"t", [*ours(orders, 0, 2), (REPLAY_COUNT, b"3")], now_ms(), 0),
    ]
    produce_records(bootstrap, dlq, records)

    code, document = replay(isolated_app, dlq, "--to", retry)

    assert code == ExitCode.OK, document
    data = document["data"]
    assert data["target"] == retry
    assert data["sent_by_topic"] == {retry: 20}
    assert data["parked_by_reason"] == {"max-attempts": 1}  # the loop guard still holds
    assert data["group"] != _group_of(dlq)  # --to is part of the selection
    assert read_all(bootstrap, orders) == read_all(bootstrap, payments) == []
    originals = {r[0]: r for r in records}
    landed = read_all(bootstrap, retry)
    assert sorted(r[0] or b"" for r in landed) == sorted(r[0] or b"" for r in records[:-1])
    for key, value, headers, timestamp, partition in landed:
        assert key is not None
        _k, o_value, o_headers, o_timestamp, _p = originals[key]
        assert (value, without_replay_count(headers), timestamp) == (
            o_value,
            o_headers,
            o_timestamp,
        )
        assert dict(headers)[REPLAY_COUNT] == b"1"
        # Not its original partition (another topic): where Kafka's Java producer puts the key.
        assert partition == java_partition(key, 3), key


def test_at_least_once_replays_without_transactions_and_resumes_from_its_checkpoint(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 2)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    records = [(b"%d" % i, b"v%d" % i, ours(origin, i % 2, i), now_ms(), 0) for i in range(30)]
    produce_records(bootstrap, dlq, records)

    code, first = replay(isolated_app, dlq, "--at-least-once", "--limit", "10")
    assert code == ExitCode.OK, first
    assert (first["data"]["exactly_once"], first["data"]["sent"]) == (False, 10)
    assert committed_total(bootstrap, first["data"]["group"], dlq, 1) == 10
    code, rest = replay(isolated_app, dlq, "--at-least-once")
    assert code == ExitCode.OK, rest
    assert (rest["data"]["group"], rest["data"]["sent"]) == (first["data"]["group"], 20)

    landed = read_all(bootstrap, origin, read_committed=False)
    assert sorted(int(r[0] or b"") for r in landed) == list(range(30))
    assert all(r[4] == int(r[0] or b"") % 2 for r in landed)  # back to their partitions
    # No transaction touched the topic: its log holds the records and no commit markers.
    assert sum(high_watermarks(bootstrap, origin).values()) == 30
    assert committed_total(bootstrap, first["data"]["group"], dlq, 1) == 30


def test_parked_records_go_to_the_parking_topic_given_and_say_where_they_came_from(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    two_weeks = {"retention.ms": str(14 * 24 * 3600 * 1000)}
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 2, two_weeks)
    parking = f"{prefix}-quarantine"
    records: list[Record] = [
        (b"fine", b"1", ours(origin, 0, 1), now_ms(), 0),
        (b"tired", b"2", [*ours(origin, 0, 2), (REPLAY_COUNT, b"3")], now_ms() - 1, 0),
        (b"orphan", b"3", [("trace", b"x")], now_ms() - 2, 1),
        (b"loop", b"4", ours(dlq, 1, 4), now_ms() - 3, 1),
    ]
    produce_records(bootstrap, dlq, records)
    # where each record sits in the DLQ: (partition, offset), as produced
    positions = {b"fine": (0, 0), b"tired": (0, 1), b"orphan": (1, 0), b"loop": (1, 1)}

    code, document = replay(isolated_app, dlq, "--parking-topic", parking)

    assert code == ExitCode.OK, document
    data = document["data"]
    assert (data["sent"], data["parking_topic"], data["created_topics"]) == (1, parking, [parking])
    assert data["parked_by_reason"] == {"max-attempts": 1, "no-origin": 1, "origin-is-dlq": 1}
    assert f"{dlq}.parking" not in topic_names(bootstrap)
    # made like its DLQ: the same partitions and retention
    assert len(high_watermarks(bootstrap, parking)) == 2
    assert topic_config(bootstrap, parking, "retention.ms") == two_weeks["retention.ms"]
    reasons = {b"tired": b"max-attempts", b"orphan": b"no-origin", b"loop": b"origin-is-dlq"}
    originals = {r[0]: r for r in records}
    parked = read_all(bootstrap, parking)
    assert sorted(r[0] or b"" for r in parked) == sorted(reasons)
    for key, value, headers, timestamp, _partition in parked:
        assert key is not None
        _k, o_value, o_headers, o_timestamp, _p = originals[key]
        partition, offset = positions[key]
        # unchanged but for two headers: why, and the DLQ record it was
        assert (value, timestamp) == (o_value, o_timestamp)
        assert headers == [
            *o_headers,
            (PARKED_REASON, reasons[key]),
            (PARKED_FROM, f"{dlq}[{partition}]@{offset}".encode()),
        ]


def test_partition_and_message_filters_pick_by_original_partition_and_exception_message(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    origin = create_topic(bootstrap, f"{prefix}-orders", 4)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    timeout, schema = "timeout calling inventory", "schema mismatch on field total"
    records: list[Record] = [
        (b"%d" % i, b"v", ours(origin, i % 4, i, message=schema if i % 3 else timeout), now_ms(), 0)
        for i in range(12)
    ]
    produce_records(bootstrap, dlq, records)

    code, timeouts = replay(isolated_app, dlq, "--message", "^timeout")
    assert code == ExitCode.OK, timeouts
    assert (timeouts["data"]["sent"], timeouts["data"]["skipped_by_filter"]) == (4, 8)
    # the class is KeyError for all: --message looks at the message only
    code, by_class = replay(isolated_app, dlq, "--message", "^KeyError", "--dry-run")
    assert (code, by_class["data"]["sent"]) == (ExitCode.OK, 0)
    odd = ("--partition", "1", "--partition", "3")
    code, picked = replay(isolated_app, dlq, *odd, "--message", "schema")
    assert code == ExitCode.OK, picked
    assert (picked["data"]["sent"], picked["data"]["skipped_by_filter"]) == (4, 8)

    landed = sorted((int(r[0] or b""), r[4]) for r in read_all(bootstrap, origin))
    # i % 3 == 0 (the timeouts), then odd original partitions among the others
    assert landed == [(i, i % 4) for i in (0, 1, 3, 5, 6, 7, 9, 11)]


def test_records_lost_to_retention_and_those_remaining_are_reported(
    bootstrap: str, isolated_app: AppContext, prefix: str
) -> None:
    from confluent_kafka import TopicPartition
    from confluent_kafka.admin import AdminClient

    origin = create_topic(bootstrap, f"{prefix}-orders", 1)
    dlq = create_topic(bootstrap, f"{prefix}-orders.dlq", 1)
    produce_records(
        bootstrap, dlq, [(b"%d" % i, b"v", ours(origin, 0, i), now_ms(), 0) for i in range(10)]
    )

    code, first = replay(isolated_app, dlq, "--limit", "3")
    assert code == ExitCode.OK, first
    assert (first["data"]["to_read"], first["data"]["read"], first["data"]["remaining"]) == (
        10,
        3,
        7,
    )
    assert first["data"]["lost_to_retention"] == 0
    # Retention deletes offsets 0-6 before the next run: 3-6 were never replayed.
    admin = AdminClient({"bootstrap.servers": bootstrap})
    [deleted] = admin.delete_records([TopicPartition(dlq, 0, 7)]).values()
    deleted.result(timeout=30)

    table = invoke(isolated_app, "kafka", "dlq", "replay", dlq, "--dry-run")
    assert table.exit_code == ExitCode.OK, table.stderr
    said = " ".join(table.stdout.split())
    assert "4 record(s) were deleted by retention before they could be replayed" in said
    code, rest = replay(isolated_app, dlq)

    assert code == ExitCode.OK, rest
    data = rest["data"]
    assert (data["lost_to_retention"], data["to_read"], data["read"], data["remaining"]) == (
        4,
        3,
        3,
        0,
    )
    assert sorted(int(r[0] or b"") for r in read_all(bootstrap, origin)) == [0, 1, 2, 7, 8, 9]


def topic_names(bootstrap: str) -> set[str]:
    from confluent_kafka.admin import AdminClient

    return set(AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=10).topics)


def topic_config(bootstrap: str, topic: str, key: str) -> str:
    from confluent_kafka.admin import AdminClient, ConfigResource

    admin = AdminClient({"bootstrap.servers": bootstrap})
    [future] = admin.describe_configs([ConfigResource("topic", topic)]).values()
    return str(future.result(timeout=15)[key].value)


def _group_of(dlq: str) -> str:
    from hyperscale.kafka.dlq.filter import FilterSpec
    from hyperscale.kafka.dlq.replay.checkpoint import checkpoint_group

    return checkpoint_group([dlq], None, FilterSpec())
