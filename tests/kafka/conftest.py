"""Fixtures of the Kafka tests: only the broker, and a unique name prefix per test."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core
from hyperscale.local.results import ServiceState
from tests.kafka.support import delete_topics_containing


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
def prefix(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every topic and group a test makes has this in its name, so tests never see each
    other's. The test's topics are deleted after it: tests that read every DLQ topic on the
    broker would otherwise read all the earlier tests' too, slower and slower."""
    from confluent_kafka import KafkaException

    name = f"ktest-{uuid.uuid4().hex[:10]}"
    yield name
    if "bootstrap" in request.fixturenames:
        try:
            delete_topics_containing(request.getfixturevalue("bootstrap"), name)
        except KafkaException as exc:  # the test's own failure (a stopped broker) says more
            warnings.warn(f"the topics of {name} were not deleted: {exc}", stacklevel=1)
