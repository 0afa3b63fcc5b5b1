"""`dlq replay` as the first group request a new cluster gets: its group coordinator does not
exist yet (the offsets topic is made on that request) and answers NOT_COORDINATOR for a moment.
The replay failed there ("reading the checkpoint ... Broker: Not coordinator", exit 3; found by
benchmarks/dlq_replay.py on a fresh broker); now it asks again until its timeout."""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator

import pytest

from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.local import core
from hyperscale.local.services.base import services_root
from tests.conftest import invoke
from tests.kafka.dlq.replay.test_replay import now_ms, ours
from tests.kafka.support import create_topic, produce_records, read_all
from tests.support import free_ports

pytestmark = pytest.mark.kafka


@pytest.fixture
def fresh_kafka(local_env: Environment, shared_app: AppContext) -> Iterator[Environment]:
    """A new single-node cluster on free ports that no group request has reached yet."""
    broker_port, controller_port = free_ports(2)
    assert local_env.local is not None
    env = local_env.model_copy(
        update={
            "name": f"fresh-{uuid.uuid4().hex[:6]}",
            "kafka": local_env.kafka.model_copy(
                update={
                    "bootstrap_servers": [Endpoint(host="127.0.0.1", port=broker_port)],
                    "services": None,
                }
            ),
            "local": local_env.local.model_copy(
                update={"kafka_controller_port": controller_port, "kafka_brokers": 1}
            ),
        }
    )
    result = core.up(env, shared_app, ["kafka"])
    assert all(s.state.healthy for s in result.services), result.services
    yield env
    core.down(env, shared_app, ["kafka"])
    shutil.rmtree(services_root(env, shared_app), ignore_errors=True)


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
