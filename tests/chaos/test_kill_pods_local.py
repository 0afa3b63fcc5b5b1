"""`hyperscale chaos kill-pods` on the local target: supervised programs killed with SIGKILL,
supervisord brings them back, the drill measures how long that took (issue 14, item 2)."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from pathlib import Path

import pytest
import yaml

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.targets.local import LocalTarget
from tests.conftest import invoke
from tests.deploy.test_local_deploy import (
    OrderStream,
    _stream_orders,
    orders_of,
    wait_until_consumed,
)
from tests.kafka.support import commit
from tests.support import wait_for

pytestmark = [pytest.mark.services, pytest.mark.kafka, pytest.mark.mysql, pytest.mark.redis]


def _pids(env: Environment, app: AppContext) -> dict[str, int | None]:
    return {p.name: p.pid for p in LocalTarget(env, app).supervisor.programs()}


def test_killing_consumer_1_under_orders_loses_none_and_journals_its_recovery(
    platform: Environment, shared_app: AppContext
) -> None:
    customer = f"c-chaos-{uuid.uuid4().hex[:6]}"
    stop, seen = threading.Event(), OrderStream()
    streamer = threading.Thread(target=_stream_orders, args=(platform, customer, stop, seen))
    before = _pids(platform, shared_app)
    streamer.start()
    try:
        wait_for(lambda: len(seen.accepted) >= 5, 30, "orders accepted before the drill")
        outcome = invoke(
            shared_app, "chaos", "kill-pods", "--env", platform.name, "-w", "consumer-1", "-o",
            "json",
        )  # fmt: skip
        after_drill = len(seen.accepted)
        wait_for(lambda: len(seen.accepted) >= after_drill + 5, 30, "orders after the drill")
    finally:
        stop.set()
        streamer.join(30)
    assert outcome.exit_code == 0, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "ok"
    after = _pids(platform, shared_app)
    assert after["consumer-1"] != before["consumer-1"]  # really killed, and back
    assert after["consumer-2"] == before["consumer-2"]  # and nothing else
    journal = json.loads(Path(report["journal"]).read_text(encoding="utf-8"))
    assert journal["verdict"] == "ok"
    recovery = journal["measurements"]["recovery_s.consumer-1"]
    assert isinstance(recovery, float)
    assert recovery > 0
    assert journal["measurements"]["min_ready.consumer-1"] == 0  # it was down, and seen so
    assert [c["name"] for c in journal["checks"] if not c["ok"]] == []

    ids = sorted({order_id for _, order_id in seen.accepted})
    wait_for(lambda: len(orders_of(platform, shared_app, customer)) >= len(ids), 90, "orders")
    wait_until_consumed(platform, platform.kafka.topics.orders)
    assert sorted(r[0] for r in orders_of(platform, shared_app, customer)) == ids


def test_dry_run_lists_the_programs_and_kills_nothing(
    platform: Environment, shared_app: AppContext
) -> None:
    before = _pids(platform, shared_app)
    outcome = invoke(
        shared_app, "chaos", "kill-pods", "--env", platform.name, "-l", "kind=consumer",
        "--count", "1", "--dry-run", "-o", "json",
    )  # fmt: skip
    assert outcome.exit_code == 0, outcome.stderr
    plan = json.loads(outcome.stdout)["data"]
    assert plan["dry_run"] is True
    [kill] = plan["kills"]
    assert kill["workload"] in {"consumer-1", "consumer-2"}
    assert _pids(platform, shared_app) == before


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["-n", "hyperscale", "-w", "consumer-1"], "no namespaces"),
        (["-w", "consumer-9"], "nothing running"),
        (["-l", "kind=consumer", "--count", "2"], "max_pods_per_drill"),
        (["-w", "api", "--recovery-timeout", "soon"], "--recovery-timeout"),
    ],
)
def test_a_bad_selection_is_refused_with_exit_2_and_kills_nothing(
    platform: Environment, shared_app: AppContext, args: list[str], words: str
) -> None:
    before = _pids(platform, shared_app)
    outcome = invoke(shared_app, "chaos", "kill-pods", "--env", platform.name, *args)
    assert outcome.exit_code == 2, outcome.stdout + outcome.stderr
    assert words in outcome.stderr
    assert _pids(platform, shared_app) == before


def test_a_consumer_group_over_the_lag_slo_breaks_the_hypothesis_before_any_kill(
    platform: Environment, shared_app: AppContext, tmp_path: Path
) -> None:
    """The lag is part of kill-pods' hypothesis: a group (of this test's own) committed at
    offset 0 of every orders partition lags far over an SLO of 10 messages, so the drill
    deviates at its steady state before and kills nothing."""
    from confluent_kafka.admin import AdminClient

    group = f"chaos-lagging-{uuid.uuid4().hex[:8]}"
    topic = platform.kafka.topics.orders
    listed = AdminClient({"bootstrap.servers": platform.kafka.bootstrap}).list_topics(topic)
    commit(
        platform.kafka.bootstrap, group, {(topic, p): 0 for p in listed.topics[topic].partitions}
    )
    environments = tmp_path / "environments"
    shutil.copytree(shared_app.environments_dir, environments)
    path = environments / "local.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["kafka"]["consumer_group"] = group
    data["slo"]["consumer_lag_messages"] = 10
    data["chaos"]["steady_state_timeout_s"] = 1
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    app = AppContext(
        state_dir=shared_app.state_dir,  # the running platform's supervisord
        cache_dir=shared_app.cache_dir,
        environments_dir=environments,
        environ=dict(shared_app.environ),
    )
    before = _pids(platform, shared_app)
    outcome = invoke(app, "chaos", "kill-pods", "--env", "local", "-w", "consumer-1", "-o", "json")
    assert outcome.exit_code == 1, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "deviated"
    [steady] = [c for c in report["checks"] if c["name"] == "steady state before"]
    assert not steady["ok"]
    assert "lag of" not in steady["detail"]  # Kafka answered: a figure, not "unknown"
    assert "SLO 10 messages" in steady["detail"]
    assert _pids(platform, shared_app) == before
