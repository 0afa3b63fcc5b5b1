"""pytest-xdist workers, each with its own real services.

The first worker (gw0, or a run without xdist) uses the environments and state directory as
given. Every other worker gets a copy of the environments with each port moved by its own
offset (a number after ``127.0.0.1:`` or under a key ending in ``_port``), and a state directory
of its own: its Kafka, MariaDB, Redis, moto, SMTP, registry and sandbox cluster never meet
another worker's. The offsets were chosen so that no port of one worker's environments is a
port of another's (the environments use pairs of ranges 100 apart: local and dr).

`make test` runs with ``--dist loadgroup``: a test module goes to one worker whole, so its
module fixtures start once; and every test of the sandbox cluster, the images and the real node
goes to one worker, since they share the cluster, the built images and the one real node a
machine can have. That group runs first: it is the longest.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from hyperscale.context import AppContext

#: The marks of the tests that share the sandbox cluster, the built images or the real node.
CLUSTER_MARKS = frozenset({"k8s", "registry", "containers"})
CLUSTER_GROUP = "cluster"

#: Port offset of worker gwN, N >= 1 (gw0 keeps the ports as they are).
WORKER_PORT_OFFSETS = (2250, 4450, 6650)
_PORT = re.compile(r"(?P<head>127\.0\.0\.1:|_port:\s*)(?P<port>\d{2,5})\b")


def shifted(text: str, offset: int) -> str:
    return _PORT.sub(lambda m: f"{m['head']}{int(m['port']) + offset}", text)


def isolate_worker() -> None:
    """Point this process (and all it starts) at the worker's own ports and state."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker.removeprefix("gw"))
    if index == 0:
        return
    if index > len(WORKER_PORT_OFFSETS):
        raise RuntimeError(f"at most {len(WORKER_PORT_OFFSETS) + 1} test workers (-n)")
    active = AppContext.from_os()
    state = Path(f"{active.state_dir}-{worker}")
    environments = state / "test-environments"
    shutil.rmtree(environments, ignore_errors=True)
    environments.mkdir(parents=True)
    for source in active.environments_dir.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        (environments / source.name).write_text(
            shifted(text, WORKER_PORT_OFFSETS[index - 1]), encoding="utf-8"
        )
    os.environ["HYPERSCALE_ENVIRONMENTS_DIR"] = str(environments)
    os.environ["HYPERSCALE_STATE_DIR"] = str(state)


def group_for_workers(items: list[pytest.Item]) -> None:
    """Mark each test with its xdist group (the cluster's, or its module's); cluster first.

    A module with one test of the cluster goes there whole: its module fixtures (a container
    run started in the background for one of its tests) then run on one worker only.
    """
    cluster_modules = {
        _module(item)
        for item in items
        if CLUSTER_MARKS.intersection(mark.name for mark in item.iter_markers())
    }
    cluster: list[pytest.Item] = []
    rest: list[pytest.Item] = []
    for item in items:
        module = _module(item)
        if module in cluster_modules:
            item.add_marker(pytest.mark.xdist_group(CLUSTER_GROUP))
            cluster.append(item)
        else:
            item.add_marker(pytest.mark.xdist_group(module))
            rest.append(item)
    items[:] = cluster + rest


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]
