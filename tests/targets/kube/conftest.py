"""A KubeApi on the sandbox cluster for the Kubernetes target's parts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hyperscale.clients.kube_api import KubeApi
from tests.conftest import Sandbox


@pytest.fixture(scope="session")
def kube_api(sandbox: Sandbox) -> Iterator[KubeApi]:
    with KubeApi(sandbox.kubeconfig, sandbox.context) as api:
        yield api
