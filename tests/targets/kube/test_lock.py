"""The per-environment deploy lock is a real Lease on the sandbox API server."""

from __future__ import annotations

import datetime as dt

import pytest

from hyperscale.clients.kube_api import KubeApi
from hyperscale.errors import UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.targets.kube import lock

pytestmark = pytest.mark.k8s


def test_a_held_lock_refuses_a_second_holder_naming_who_when_and_why(
    kube_api: KubeApi, namespace: str
) -> None:
    with lock.locked(kube_api, namespace, "release 42", "hyperscale deploy --env sandbox"):
        with pytest.raises(UsageError) as refused:
            lock.acquire(kube_api, namespace, "another", "hyperscale deploy --env sandbox")
        assert refused.value.exit_code is ExitCode.USAGE
        assert lock.whoami() in refused.value.message
        assert "release 42" in refused.value.message
        holder = lock.current_holder(kube_api, namespace)
        assert holder is not None
        assert (holder.holder, holder.reason) == (lock.whoami(), "release 42")
        assert holder.since
    assert lock.current_holder(kube_api, namespace) is None
    lease = kube_api.get("coordination.k8s.io/v1", "Lease", lock.LEASE_NAME, namespace)
    assert lease is None


def test_the_lock_is_released_when_the_block_raises(kube_api: KubeApi, namespace: str) -> None:
    with (
        pytest.raises(KeyboardInterrupt),
        lock.locked(kube_api, namespace, "interrupted", "hyperscale deploy"),
    ):
        raise KeyboardInterrupt
    assert lock.current_holder(kube_api, namespace) is None


def test_a_lease_its_holder_stopped_renewing_is_taken_over(
    kube_api: KubeApi, namespace: str
) -> None:
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kube_api.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": lock.LEASE_NAME, "namespace": namespace},
            "spec": {
                "holderIdentity": "gone@elsewhere pid 1",
                "acquireTime": old,
                "renewTime": old,
                "leaseDurationSeconds": 60,
            },
        }
    )
    assert lock.current_holder(kube_api, namespace) is None  # expired: nobody holds it
    with lock.locked(kube_api, namespace, "after a crash", "hyperscale deploy"):
        holder = lock.current_holder(kube_api, namespace)
        assert holder is not None
        assert holder.holder == lock.whoami()


def test_force_unlock_names_the_holder_it_removed(kube_api: KubeApi, namespace: str) -> None:
    held = lock.acquire(kube_api, namespace, "stuck", "hyperscale deploy")
    try:
        holder = lock.force_unlock(kube_api, namespace)
        assert holder is not None
        assert holder.reason == "stuck"
        assert lock.current_holder(kube_api, namespace) is None
        assert lock.force_unlock(kube_api, namespace) is None
    finally:
        held.release()  # the Lease is gone: releasing it again must not fail
