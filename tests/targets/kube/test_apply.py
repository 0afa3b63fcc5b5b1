"""Server-side apply in waves: what changed, what was left alone, and pruning that touches only
objects carrying the deploy's label."""

from __future__ import annotations

from typing import Any

import pytest

from hyperscale.clients.kube_api import KubeApi
from hyperscale.targets.kube.apply import apply_all
from hyperscale.targets.kube.objects import DEPLOY_LABEL

pytestmark = pytest.mark.k8s


def config(namespace: str, name: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"value": value},
    }


def quiet(_: str) -> None:
    pass


def test_apply_reports_changes_and_prunes_only_labelled_objects(
    kube_api: KubeApi, namespace: str
) -> None:
    first = [config(namespace, "a", "1"), config(namespace, "b", "1")]
    outcome = apply_all(kube_api, "unit", first, [], quiet)
    assert sorted(outcome.added) == [f"ConfigMap {namespace}/a", f"ConfigMap {namespace}/b"]
    live = kube_api.get("v1", "ConfigMap", "a", namespace)
    assert live is not None
    assert live["metadata"]["labels"][DEPLOY_LABEL] == "unit"
    # Made by hand, not by a deploy: never pruned.
    kube_api.create(config(namespace, "by-hand", "1"))
    again = apply_all(kube_api, "unit", first, first, quiet)
    assert (again.added, again.changed, again.pruned) == ([], [], [])
    assert len(again.unchanged) == 2
    second = [config(namespace, "a", "2")]
    after = apply_all(kube_api, "unit", second, first, quiet)
    assert after.changed == [f"ConfigMap {namespace}/a"]
    assert after.pruned == [f"ConfigMap {namespace}/b"]
    assert kube_api.get("v1", "ConfigMap", "b", namespace) is None
    assert kube_api.get("v1", "ConfigMap", "by-hand", namespace) is not None


def test_kinds_the_cluster_does_not_serve_are_skipped_not_failed(
    kube_api: KubeApi, namespace: str
) -> None:
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "r", "namespace": namespace},
        "spec": {"groups": []},
    }
    outcome = apply_all(kube_api, "unit", [config(namespace, "a", "1"), rule], [], quiet)
    assert outcome.skipped == [f"PrometheusRule {namespace}/r"]
    assert outcome.added == [f"ConfigMap {namespace}/a"]
