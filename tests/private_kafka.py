"""A Kafka broker of a test's own, for what must never happen to the session's shared one
(restarts, a cluster no group request has reached yet)."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from hyperscale.local.services.base import services_root
from tests.support import free_ports


@contextmanager
def private_kafka(base: Environment, app: AppContext, name: str) -> Iterator[Environment]:
    """A single-node Kafka on free ports, with its data under the state directory's envs/ (the
    same code as `hyperscale local up kafka` for a second local environment, like `dr`); an
    environment named ``name-<random>`` pointing at it. Stopped and its data removed after."""
    broker_port, controller_port = free_ports(2)
    assert base.local is not None
    env = base.model_copy(
        update={
            "name": f"{name}-{uuid.uuid4().hex[:6]}",
            "kafka": base.kafka.model_copy(
                # Without the services' SCRAM listener: its port is the shared broker's.
                update={
                    "bootstrap_servers": [Endpoint(host="127.0.0.1", port=broker_port)],
                    "services": None,
                }
            ),
            "local": base.local.model_copy(
                update={"kafka_controller_port": controller_port, "kafka_brokers": 1}
            ),
        }
    )
    result = core.up(env, app, ["kafka"])
    assert all(s.state.healthy for s in result.services), result.services
    try:
        yield env
    finally:
        core.down(env, app, ["kafka"])
        shutil.rmtree(services_root(env, app), ignore_errors=True)  # its data, logs, pid
