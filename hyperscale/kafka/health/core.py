"""`hyperscale kafka health`: under-replicated, under-min-ISR and offline partitions, the active
controller, and each broker's reachability. Returns a report; never prints."""

from __future__ import annotations

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.health import ClusterState, brokers_answering, cluster_state
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.kafka.health.results import BrokerHealth, KafkaHealthReport


def kafka_health(env: Environment, app: AppContext, timeout: float = 10.0) -> KafkaHealthReport:
    state = cluster_state(KafkaAdmin(env, app, timeout=timeout))
    bootstrap = [str(e) for e in env.kafka.bootstrap_servers]
    live = {b.address: b for b in state.brokers}
    answers = brokers_answering(sorted(set(bootstrap) | set(live)), timeout=min(timeout, 3.0))
    return assess(env.kafka.bootstrap, state, bootstrap, answers)


def assess(
    bootstrap: str,
    state: ClusterState,
    expected: list[str],
    answers: dict[str, str | None],
) -> KafkaHealthReport:
    """The report from what the cluster said; pure, so every rule is testable on its own."""
    live = {b.address: b for b in state.brokers}
    brokers = [BrokerHealth(b.id, b.address, True, answers.get(b.address)) for b in state.brokers]
    brokers += [
        BrokerHealth(None, address, False, answers.get(address) or "not in the cluster")
        for address in expected
        if address not in live
    ]
    known = {b.id for b in state.brokers}
    assigned = {r for p in state.partitions for r in p.replicas}
    brokers += [
        BrokerHealth(missing, None, False, "holds replicas but is not in the cluster")
        for missing in sorted(assigned - known)
        if not any(b.id == missing for b in brokers)
    ]
    problem = state.partitions
    return KafkaHealthReport(
        bootstrap=bootstrap,
        cluster_id=state.cluster_id,
        controller=state.controller,
        brokers=brokers,
        partitions=len(state.partitions),
        under_replicated=[p for p in problem if len(p.isr) < len(p.replicas)],
        under_min_isr=[p for p in problem if len(p.isr) < p.min_isr],
        offline=[p for p in problem if p.leader < 0],
    )
