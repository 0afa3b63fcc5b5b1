"""Fixtures of the Kafka tests: only the broker, and a unique name prefix per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from hyperscale.local.results import ServiceState


@pytest.fixture(scope="session")
def bootstrap(shared_app: AppContext, local_env: Environment) -> Iterator[str]:
    """The local broker, started like `hyperscale local up kafka` (reused when running)."""
    result = core.up(local_env, shared_app, ["kafka"])
    failed = [s for s in result.services if not s.state.healthy]
    if failed:
        pytest.fail(f"kafka did not start: {failed[0].detail}", pytrace=False)
    yield local_env.kafka.bootstrap
    started = [s.name for s in result.services if s.state is not ServiceState.REUSED]
    if started and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        core.down(local_env, shared_app, started)


@pytest.fixture
def prefix() -> str:
    """Every topic and group a test makes starts with this, so tests never see each other's."""
    return f"ktest-{uuid.uuid4().hex[:10]}"
