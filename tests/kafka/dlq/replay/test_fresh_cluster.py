"""`dlq replay` as the first group request a new cluster gets: its group coordinator does not
exist yet (the offsets topic is made on that request) and answers NOT_COORDINATOR for a moment.
The replay failed there ("reading the checkpoint ... Broker: Not coordinator", exit 3; found by
benchmarks/dlq_replay.py on a fresh broker); now it asks again until its timeout."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from tests.conftest import invoke
from tests.kafka.dlq.replay.test_replay import now_ms, ours
from tests.kafka.support import create_topic, produce_records, read_all
from tests.private_kafka import private_kafka

pytestmark = pytest.mark.kafka


@pytest.fixture
def fresh_kafka(local_env: Environment, shared_app: AppContext) -> Iterator[Environment]:
    """A new single-node cluster on free ports that no group request has reached yet."""
    with private_kafka(local_env, shared_app, "fresh") as env:
        yield env


def test_a_replay_on_a_new_cluster_waits_for_its_group_coordinator(
    fresh_kafka: Environment, isolated_app: AppContext
) -> None:
    bootstrap = fresh_kafka.kafka.bootstrap
    origin = create_topic(bootstrap, "orders", 2)
    dlq = create_topic(bootstrap, "orders.dlq", 2)
    produce_records(
        bootstrap,
        dlq,
        [(b"k%d" % i, b"v%d" % i, ours(origin, i % 2, i), now_ms(), i % 2) for i in range(10)],
    )

    outcome = invoke(
        isolated_app, "kafka", "dlq", "replay", dlq, "--bootstrap", bootstrap, "-o", "json"
    )

    assert outcome.exit_code == ExitCode.OK, outcome.stdout + outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    assert (data["read"], data["sent"]) == (10, 10)
    assert len(read_all(bootstrap, origin)) == 10
