"""Fixtures for `hyperscale images`: the real registry, one build of the services per session."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.local import core as local_core
from hyperscale.local.results import ServiceState
from tests.conftest import invoke


@pytest.fixture(scope="session")
def registry(shared_app: AppContext, local_env: Environment) -> Iterator[str]:
    """The local registry, started by the same code as `hyperscale local up registry`; its URL."""
    result = local_core.up(local_env, shared_app, ["registry"])
    outcome = result.services[0]
    if not outcome.state.healthy:
        pytest.fail(f"registry did not start: {outcome.detail}", pytrace=False)
    yield f"http://{outcome.address}"
    if outcome.state is not ServiceState.REUSED and not os.environ.get("HYPERSCALE_KEEP_SERVICES"):
        local_core.down(local_env, shared_app, ["registry"])


@pytest.fixture(scope="session")
def built(registry: str) -> dict[str, Any]:
    """`images build --push` of the API and the consumer, once per session (the base image is
    built on first use and cached); the JSON envelope's data."""
    outcome = invoke(
        AppContext.from_os(),
        "images",
        "build",
        "-s",
        "api",
        "-s",
        "consumer",
        "--push",
        "-o",
        "json",
    )
    assert outcome.exit_code == 0, outcome.stderr
    data: dict[str, Any] = json.loads(outcome.stdout)["data"]
    return data
