"""`hyperscale dr drill broker-loss`: under a bounded ``acks=all`` load, one Kafka node is
killed (SIGKILL: a crash, not a polite shutdown), `kafka health` must see the cluster
degraded, the load must go on being acknowledged on the two nodes left, the node comes back,
health must be healthy again, and every acknowledged key must be read back."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.drill_load import KeyedLoad, read_keys
from hyperscale.clients.kafka.models import NewTopicSpec
from hyperscale.clients.kafka.topic_admin import TopicAdmin
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.drills.engine import DrillRun, run_drill
from hyperscale.drills.outage import bring_back, take_down
from hyperscale.drills.results import DrillReport
from hyperscale.errors import HyperscaleError, UsageError
from hyperscale.kafka.health.core import kafka_health
from hyperscale.kafka.health.results import KafkaHealthReport
from hyperscale.local.services import SERVICE_TYPES, BackingService
from hyperscale.local.services.kafka import KAFKA_NODE_NAMES
from hyperscale.progress import Progress, quiet
from hyperscale.targets import require_local

#: The longest a node is kept down past ``--down``, waiting for a write acknowledged without it.
WRITES_WITHOUT_NODE_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class BrokerLossSettings:
    records: int = 20_000
    rate: float = 2_000.0
    #: Which node to kill; None: the active controller (the harder loss).
    node: int | None = None
    #: How long the node stays down while the load goes on, at least (see
    #: WRITES_WITHOUT_NODE_TIMEOUT_S).
    down_seconds: float = 10.0
    heal_timeout: float = 180.0


def broker_loss(
    env: Environment,
    app: AppContext,
    settings: BrokerLossSettings,
    progress: Progress = quiet,
) -> DrillReport:
    require_local(env, app, "the broker-loss drill stops a local Kafka node", hint="--env dr")
    if env.runtime.kafka_brokers < 3:  # noqa: PLR2004 - a quorum that survives one loss
        raise UsageError(
            f"environment {env.name} runs {env.runtime.kafka_brokers} Kafka node(s): losing"
            " one leaves no replica to fail over to",
            hint="use --env dr (local.kafka_brokers: 3)",
        )
    if settings.node is not None and settings.node not in KAFKA_NODE_NAMES:
        raise UsageError(f"--node {settings.node}: the nodes are 1, 2 and 3")
    return run_drill(
        app, "broker-loss", env.name, lambda run: _drill(run, env, app, settings), progress
    )


def _health(env: Environment, app: AppContext) -> KafkaHealthReport | None:
    try:
        return kafka_health(env, app, timeout=3.0)
    except HyperscaleError:
        return None  # no broker answered at all: not healthy, not a report either


def _drill(run: DrillRun, env: Environment, app: AppContext, s: BrokerLossSettings) -> None:
    with run.step("steady state: kafka health is healthy"):
        before = _health(env, app)
        if not run.check(
            "healthy before",
            before is not None and before.healthy,
            "; ".join(before.problems) if before else "unreachable",
        ):
            return
    assert before is not None  # noqa: S101 - checked just above
    node = s.node or before.controller or 2
    service: BackingService = SERVICE_TYPES[KAFKA_NODE_NAMES[node]](env, app)
    topic = f"dr-drill-broker-loss-{uuid.uuid4().hex[:8]}"
    with run.step(f"create {topic}: 6 partitions, replication factor 3, min.insync.replicas 2"):
        KafkaAdmin(env, app).create([NewTopicSpec(topic, 6, 3, {"min.insync.replicas": "2"})])
        run.undo_later(f"delete {topic}", lambda: TopicAdmin(env, app).delete([topic]))
    load = KeyedLoad(env, app, topic, s.records, s.rate)
    with run.step(f"acks=all load: {s.records} records at {s.rate:g}/s"):
        load.start()
        run.undo_later("stop the load", load.stop)
        run.wait_until(lambda: load.acked_count() >= s.records // 4, timeout=60, interval=0.1)
    with run.step(f"kill Kafka node {node} ({service.name}, {service.endpoint}) with SIGKILL"):
        killed_at = take_down(run, service, crash=True)
    with run.step("kafka health while the node is down"):
        reports: list[KafkaHealthReport] = []

        def degraded_seen() -> bool:
            report = _health(env, app)
            if report is not None and not report.healthy:
                reports.append(report)
            return bool(reports)

        seen = run.wait_until(degraded_seen, timeout=30)
        # An acknowledgement from after this moment cannot be one the lost node sent.
        noticed_at = time.monotonic()
        degraded = reports[0] if reports else None
        run.check(
            "health degraded (exit 1) while the node is down",
            seen is not None and degraded is not None and not degraded.healthy,
            "; ".join(degraded.problems) if degraded else "unreachable",
        )
        run.measure("seconds_to_degraded", None if seen is None else round(seen, 2))
        rest = s.down_seconds - (time.monotonic() - killed_at)
        if rest > 0:
            run.sleep(rest)
    with run.step("keep it down until the nodes left acknowledge a write"):
        # The dead node leaves the in-sync replicas only after replica.lag.time.max.ms, and
        # acks=all waits for it until then: on a loaded machine that can outlast --down.
        # Bringing it back before the two nodes left acknowledged anything would prove nothing.
        run.wait_until(
            lambda: load.acked_since(noticed_at) > 0 or not load.running(),
            timeout=WRITES_WITHOUT_NODE_TIMEOUT_S,
            interval=0.1,
        )
    with run.step(f"start {service.name} again"):
        restarted_at, answered_at = bring_back(run, service)
        run.measure("seconds_to_start_node", round(answered_at - restarted_at, 2))
    with run.step("wait for the load to finish"):
        finished = load.join(timeout=s.records / s.rate + 150)
        run.check("load finished", finished)
    with run.step("kafka health until healthy again"):
        healed = run.wait_until(
            lambda: bool((h := _health(env, app)) and h.healthy), s.heal_timeout
        )
        run.check(f"health healthy (exit 0) again within {s.heal_timeout:g}s", healed is not None)
        if healed is not None:
            now = time.monotonic()
            run.measure("seconds_to_heal_after_restart", round(now - restarted_at, 2))
            # The replicas catching up, once the node's JVM answers again.
            run.measure("seconds_to_heal_after_node_answers", round(now - answered_at, 2))
            run.measure("seconds_from_loss_to_healthy", round(now - killed_at, 2))
    _judge(run, env, app, topic, load, (killed_at, restarted_at))


def _judge(
    run: DrillRun,
    env: Environment,
    app: AppContext,
    topic: str,
    load: KeyedLoad,
    down: tuple[float, float],
) -> None:
    killed_at, restarted_at = down
    with run.step("read every key back"):
        tally = load.tally
        found = read_keys(env, app, topic, timeout=120)
        lost = sorted(set(tally.acked) - found)
        while_down = sum(1 for t in tally.acked.values() if killed_at <= t < restarted_at)
        run.measure("records_sent", tally.sent)
        run.measure("records_acknowledged", len(tally.acked))
        run.measure("records_acknowledged_while_down", while_down)
        first = min((t for t in tally.acked.values() if t >= killed_at), default=None)
        run.measure(
            "seconds_to_first_write_without_node",
            None if first is None else round(first - killed_at, 2),
        )
        run.measure("records_failed", tally.failed)
        run.measure("acknowledged_records_lost", len(lost))
        run.check(
            "every acknowledged record read back",
            not lost,
            f"{len(lost)} lost, first {lost[:3]}" if lost else f"{len(tally.acked)} read back",
        )
        run.check(
            "writes acknowledged while a node was down",
            while_down > 0,
            f"{while_down} acknowledged on the two nodes left",
        )
