"""The consumer rides out a MariaDB restart and a broker restart; afterwards every event is in
MySQL exactly once. The services are stopped and started like `hyperscale local down|up NAME`."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from tests.services.consumer.conftest import StartConsumer
from tests.services.consumer.support import (
    ConsumerProcess,
    EventStream,
    MySQL,
    Topics,
    assert_commits_follow_mysql,
    end_offsets,
)
from tests.support import wait_for

pytestmark = [pytest.mark.kafka, pytest.mark.mysql, pytest.mark.timeout(480)]


@pytest.fixture
def restartable(backends: Environment, shared_app: AppContext) -> Iterator[list[str]]:
    """Names of services a test stops; whatever happens, they are running again afterwards."""
    stopped: list[str] = []
    yield stopped
    if stopped:
        core.up(backends, shared_app, stopped)


def restart(env: Environment, app: AppContext, name: str, outage_s: float) -> None:
    down = core.down(env, app, [name])
    assert down.stopped == [(name, True)], f"{name} was not running"
    time.sleep(outage_s)
    result = core.up(env, app, [name])
    assert all(s.state.healthy for s in result.services), result.services


def assert_exactly_once(stream: EventStream, mysql: MySQL, topics: Topics) -> None:
    assert mysql.processed_count(topics.all) == stream.sent
    counts = mysql.order_counts(stream.order_ids)
    assert set(counts.values()) == {1}, "an order is missing"
    lines = mysql.rows("SELECT COUNT(*) FROM order_lines WHERE order_id IN %s", (stream.order_ids,))
    assert lines == [(2 * len(stream.order_ids),)]
    for campaign, sent in stream.impressions.items():
        # A counter applied twice would show here: orders have a primary key, counters do not.
        assert mysql.campaign(campaign) == (sent, 0, 0, 0), campaign


def run_through_outage(
    name: str,
    start_consumer: StartConsumer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
    env: Environment,
    app: AppContext,
    stopped: list[str],
) -> ConsumerProcess:
    campaigns = [f"camp-{name}-{i}-{topics.events[-10:]}" for i in range(4)]
    stream = EventStream(bootstrap, topics, campaigns).start()
    consumer = start_consumer(CONSUMER_BATCH_SIZE="100")
    wait_for(lambda: mysql.processed_count(topics.all) > 500, 60, "the consumer under way")

    stopped.append(name)
    restart(env, app, name, outage_s=5)
    stopped.remove(name)

    time.sleep(3)  # keep streaming after the recovery too
    stream.stop()
    assert consumer.running, consumer.log_tail()
    # Generous: if the outage outlasted the 45 s group session, the restarted coordinator waits
    # out the old member's session before it assigns the partitions again.
    try:
        wait_for(
            lambda: mysql.processed_count(topics.all) == stream.sent,
            240,
            f"all {stream.sent} events applied after the {name} restart",
            interval=1,
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nconsumer log:\n{consumer.log_tail(40)}") from None
    assert_exactly_once(stream, mysql, topics)
    ends = end_offsets(bootstrap, topics.all)
    wait_for(
        lambda: assert_commits_follow_mysql(bootstrap, group, mysql, topics.all) == ends,
        60,
        "offsets committed to the end",
        interval=1,
    )
    return consumer


def test_mariadb_restart_loses_and_doubles_nothing(
    start_consumer: StartConsumer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
    backends: Environment,
    shared_app: AppContext,
    restartable: list[str],
) -> None:
    consumer = run_through_outage(
        "mysql", start_consumer, topics, mysql, bootstrap, group, backends, shared_app, restartable
    )
    assert consumer.metric("platform_consumer_db_retries_total", 'reason="connection"') >= 1
    assert any(
        line.get("operation") == "mysql" and line["msg"].endswith("retrying")
        for line in consumer.logs()
    )


def test_broker_restart_loses_and_doubles_nothing(
    start_consumer: StartConsumer,
    topics: Topics,
    mysql: MySQL,
    bootstrap: str,
    group: str,
    backends: Environment,
    shared_app: AppContext,
    restartable: list[str],
) -> None:
    consumer = run_through_outage(
        "kafka", start_consumer, topics, mysql, bootstrap, group, backends, shared_app, restartable
    )
    assert consumer.http("/healthz")[0] == 200


def test_a_fenced_consumer_exits_so_supervision_can_start_it_again(
    start_consumer: StartConsumer, topics: Topics, mysql: MySQL, bootstrap: str
) -> None:
    """A static member the coordinator replaced (here: a second process with the same
    CONSUMER_INSTANCE_ID; on the platform: the same consumer after a broker outage longer than
    its session) is refused its commits for ever. It used to stay up consuming nothing, with
    its partitions stuck; it must end, so that supervision starts a fresh one."""
    campaigns = [f"camp-fenced-{i}-{topics.events[-10:]}" for i in range(2)]
    stream = EventStream(bootstrap, topics, campaigns).start()
    try:
        first = start_consumer(CONSUMER_INSTANCE_ID="fenced-1", CONSUMER_BATCH_SIZE="50")
        wait_for(
            lambda: mysql.processed_count(topics.all) > 100, 60, "the first consumer under way"
        )
        second = start_consumer(CONSUMER_INSTANCE_ID="fenced-1", CONSUMER_BATCH_SIZE="50")
        wait_for(lambda: not first.running, 90, "the fenced consumer to exit")
    finally:
        stream.stop()
    assert any("fatal Kafka client error" in str(line) for line in first.logs()), first.log_tail()
    assert second.running, second.log_tail()
    wait_for(
        lambda: mysql.processed_count(topics.all) == stream.sent,
        120,
        f"all {stream.sent} events applied by the consumer that took over",
        interval=1,
    )
    assert_exactly_once(stream, mysql, topics)
