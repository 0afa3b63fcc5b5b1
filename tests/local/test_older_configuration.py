"""`hyperscale local up` on a service that was started with an older configuration: a broker
from before the services' own SCRAM listener (every developer's, after that change)."""

from __future__ import annotations

import pytest

from hyperscale.config.models import Endpoint, Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from hyperscale.local.results import ServiceState
from tests.private_kafka import private_kafka
from tests.support import free_port

pytestmark = [pytest.mark.services, pytest.mark.kafka]


def test_a_broker_without_a_listener_the_environment_now_gives_it_is_named_not_reused(
    local_services: Environment, shared_app: AppContext
) -> None:
    access = local_services.kafka.services
    assert access is not None
    with private_kafka(local_services, shared_app, "older") as older:
        [before] = core.status(older, shared_app, ["kafka"]).services
        listener = Endpoint(host="127.0.0.1", port=free_port())
        newer = older.model_copy(
            update={
                "kafka": older.kafka.model_copy(
                    update={"services": access.model_copy(update={"bootstrap_servers": [listener]})}
                )
            }
        )

        [outcome] = core.up(newer, shared_app, ["kafka"]).services

        assert outcome.state is ServiceState.FAILED
        assert outcome.detail.startswith(
            f"kafka runs with an older configuration: nothing answers on 127.0.0.1:{listener.port}"
        )
        assert "hyperscale local down kafka" in outcome.detail
        # Named, not touched: the same broker still runs and answers.
        [after] = core.status(older, shared_app, ["kafka"]).services
        assert (after.state, after.pid) == (ServiceState.UP, before.pid)
        # Restarted as the hint says, it listens where the environment now asks.
        core.down(newer, shared_app, ["kafka"])
        [restarted] = core.up(newer, shared_app, ["kafka"]).services
        assert restarted.state is ServiceState.STARTED, restarted.detail
