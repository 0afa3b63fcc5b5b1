"""The rules of `kafka health`, each on a cluster state built by hand: offline and
under-min-ISR partitions cannot be made on a live three-node cluster without losing its
controller quorum, so they are judged here; the live degraded/healthy path is in
tests/dr/test_broker_loss.py."""

from __future__ import annotations

from hyperscale.clients.kafka.health import ClusterState, LiveBroker, PartitionState
from hyperscale.exit_codes import ExitCode
from hyperscale.kafka.health.core import assess

BROKERS = [LiveBroker(1, "127.0.0.1", 1), LiveBroker(2, "127.0.0.1", 2)]
EXPECTED = ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]


def _state(*partitions: PartitionState, controller: int | None = 1) -> ClusterState:
    return ClusterState("c", controller, BROKERS, list(partitions))


def test_a_partition_without_leader_is_offline_and_under_min_isr() -> None:
    report = assess("b", _state(PartitionState("t", 0, -1, [1, 2, 3], [], 2)), EXPECTED[:2], {})
    assert report.exit_code is ExitCode.CHECK_FAILED
    assert [p.partition for p in report.offline] == [0]
    assert [p.partition for p in report.under_min_isr] == [0]
    assert "1 offline partition(s)" in report.problems


def test_one_replica_out_of_sync_is_under_replicated_but_not_under_min_isr() -> None:
    report = assess("b", _state(PartitionState("t", 0, 1, [1, 2, 3], [1, 2], 2)), EXPECTED, {})
    assert [p.isr for p in report.under_replicated] == [[1, 2]]
    assert report.under_min_isr == []
    # broker 3 holds a replica and its address is expected, yet it is not in the cluster
    assert any("not in the cluster" in p for p in report.problems)
    assert report.to_data()["status"] == "degraded"


def test_no_controller_or_a_silent_broker_is_degraded() -> None:
    in_sync = PartitionState("t", 0, 1, [1, 2], [1, 2], 1)
    assert assess("b", _state(in_sync, controller=None), EXPECTED[:2], {}).problems == [
        "no active controller"
    ]
    silent = assess("b", _state(in_sync), EXPECTED[:2], {"127.0.0.1:2": "timed out"})
    assert silent.problems == ["broker 2 does not answer: timed out"]


def test_all_replicas_in_sync_with_a_controller_is_healthy() -> None:
    report = assess("b", _state(PartitionState("t", 0, 2, [1, 2], [2, 1], 2)), EXPECTED[:2], {})
    assert report.healthy
    assert report.exit_code is ExitCode.OK
