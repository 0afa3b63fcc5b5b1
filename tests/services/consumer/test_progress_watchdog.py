"""The progress watchdog (issue 20): a consumer with records waiting on its partitions that
reads none for CONSUMER_STALL_TIMEOUT_S says so on /healthz (503, with the reason) and exits 1,
so that supervision starts a fresh one, which resumes from the committed offsets. A consumer
that is caught up, or that waits on MySQL, is never ended by it.

Real: the broker, the group, MariaDB, the consumer process, /healthz, the exit. Faked, and only
in the first test: the stuck fetcher itself (see fake_stuck_fetcher.py).
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from platform_consumer.__main__ import STALL_REPORT_HOLD_S
from platform_consumer.progress import check_interval

from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import (
    ConsumerProcess,
    EventProducer,
    MySQL,
    OutageProxy,
    Topics,
    assert_commits_follow_mysql,
    order_event,
)
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql, pytest.mark.timeout(240)]

FAKE_STUCK_FETCHER = "tests.services.consumer.fake_stuck_fetcher"
STALL_LINE = "no progress with records waiting"


class HealthWatcher:
    """Polls /healthz in the background and keeps the first answer that was not 200."""

    def __init__(self, consumer: ConsumerProcess, interval: float = 0.1) -> None:
        self.consumer = consumer
        self.interval = interval
        self.first_unhealthy: tuple[int, dict[str, object]] | None = None
        self.states: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="healthz-watcher", daemon=True)

    def __enter__(self) -> HealthWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                status, body = self.consumer.http("/healthz", timeout=2)
            except OSError:
                continue  # not up yet, or gone
            answer = json.loads(body)
            self.states.add(str(answer.get("state")))
            if status != 200 and self.first_unhealthy is None:
                self.first_unhealthy = (status, answer)


def stall_lines(consumer: ConsumerProcess) -> list[dict[str, object]]:
    return [line for line in consumer.logs() if str(line.get("msg", "")).startswith(STALL_LINE)]


def send_orders(producer: EventProducer, topic: str, count: int) -> list[str]:
    events = [order_event() for _ in range(count)]
    producer.send_all(topic, events)
    return [str(e.order.order_id) for e in events]


def test_records_waiting_and_none_read_end_the_consumer_with_a_503_and_a_fresh_one_resumes(
    start_consumer: StartConsumer,
    producer: EventProducer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
) -> None:
    """FAKED: the stuck fetcher. The consumer is fake_stuck_fetcher.py, which pauses its
    partitions after 10 records (librdkafka's own "assigned, not fetching"), standing in for the
    fetcher that never resumed after the drill's broker restart; a real restart reproduces that
    only now and then. The watchdog sees what it saw in the drill: partitions held, records
    beyond the position, nothing read."""
    timeout_s = 6.0
    orders = send_orders(producer, topics.orders, 10)
    stuck = start_consumer(
        module=FAKE_STUCK_FETCHER,
        FAKE_STALL_AFTER_RECORDS="10",
        CONSUMER_STALL_TIMEOUT_S=str(timeout_s),
        CONSUMER_BATCH_SIZE="5",
    )
    wait_for(lambda: mysql.processed_count(topics.all) == 10, 90, "the first 10 orders applied")

    orders += send_orders(producer, topics.orders, 5)
    waiting_since = time.monotonic()
    with HealthWatcher(stuck) as health:
        status = stuck.wait(timeout_s + 60)
    took = time.monotonic() - waiting_since

    assert status == 1, stuck.log_tail()
    # The timeout, two checks (the stall is seen at the first after the records came), the hold
    # of the 503 before the exit, and room for a loaded machine.
    assert took < timeout_s + 2 * check_interval(timeout_s) + STALL_REPORT_HOLD_S + 10, took
    assert health.first_unhealthy is not None, "/healthz never said 503"
    code, body = health.first_unhealthy
    assert code == 503
    assert body["status"] == "stalled"
    assert body["state"] == "no-progress"
    assert "5 record(s) ahead" in str(body["reason"]), body
    [line] = stall_lines(stuck)
    assert line["level"] == "error"
    assert line["records_ahead"] == 5
    assert not any("traceback" in entry for entry in stuck.logs()), "one line, not a crash"

    # Nothing beyond the MySQL commit was committed; a fresh consumer takes it from there.
    assert mysql.processed_count(topics.all) == 10
    assert_commits_follow_mysql(bootstrap, group, mysql, topics.all, exact=True)
    fresh = start_consumer(CONSUMER_STALL_TIMEOUT_S=str(timeout_s))
    wait_for(lambda: mysql.processed_count(topics.all) == 15, 90, "all 15 orders applied")
    assert set(mysql.order_counts(orders).values()) == {1}
    assert fresh.running
    assert not stall_lines(fresh)


def test_a_caught_up_consumer_idles_healthy_long_past_the_stall_timeout(
    start_consumer: StartConsumer, producer: EventProducer, topics: Topics, mysql: MySQL
) -> None:
    timeout_s = 3.0
    consumer = start_consumer(CONSUMER_STALL_TIMEOUT_S=str(timeout_s))
    send_orders(producer, topics.orders, 10)
    wait_for(lambda: mysql.processed_count(topics.all) == 10, 90, "10 orders applied")

    with HealthWatcher(consumer) as health:
        time.sleep(5 * timeout_s)  # nothing ahead: idle is not stuck, however long
    assert health.first_unhealthy is None, health.first_unhealthy
    assert consumer.running, consumer.log_tail()
    assert consumer.metric("platform_consumer_stalls_total") == 0
    assert consumer.metric("platform_consumer_stalled_seconds") == 0

    send_orders(producer, topics.orders, 5)  # and it still reads what comes
    wait_for(lambda: mysql.processed_count(topics.all) == 15, 60, "5 more orders applied")
    assert not stall_lines(consumer)


def test_a_consumer_waiting_on_a_mysql_outage_is_not_ended_by_the_watchdog(
    start_consumer: StartConsumer, producer: EventProducer, topics: Topics, mysql: MySQL
) -> None:
    """The outage is real for this consumer: its MySQL connections go through a relay that the
    test cuts (closed, then refused) for five stall timeouts, with records waiting behind the
    batch in hand; MariaDB itself keeps serving the rest of the session."""
    timeout_s = 3.0
    proxy = OutageProxy((mysql.host, mysql.port)).start()
    try:
        consumer = start_consumer(
            MYSQL_WRITER=f"127.0.0.1:{proxy.port}",
            CONSUMER_STALL_TIMEOUT_S=str(timeout_s),
            CONSUMER_BATCH_SIZE="5",
        )
        orders = send_orders(producer, topics.orders, 10)
        wait_for(lambda: mysql.processed_count(topics.all) == 10, 90, "10 orders applied")

        proxy.cut()
        orders += send_orders(producer, topics.orders, 20)
        with HealthWatcher(consumer) as health:
            time.sleep(5 * timeout_s)
            assert consumer.running, consumer.log_tail()
            proxy.restore()
            wait_for(lambda: mysql.processed_count(topics.all) == 30, 90, "all 30 applied")
    finally:
        proxy.cut()

    assert consumer.running, consumer.log_tail()
    assert "retrying" in health.states, health.states
    assert health.first_unhealthy is None, health.first_unhealthy
    assert consumer.metric("platform_consumer_db_retries_total", 'reason="connection"') >= 1
    assert consumer.metric("platform_consumer_stalls_total") == 0
    assert not stall_lines(consumer)
    assert set(mysql.order_counts(orders).values()) == {1}
