"""The sandbox manifests against the real kube-apiserver (v1.34, the sandbox cluster): a
server-side apply dry run with strict field validation, the CRDs installed from
schemas/crds/. This checks the rendered objects and, in passing, that the CRD schemas kept in
the repository are structural schemas the API server accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from hyperscale.context import PROJECT_ROOT
from hyperscale.runner import run
from tests.conftest import Sandbox
from tests.support import wait_for

MANIFESTS = PROJECT_ROOT / "manifests" / "sandbox"
CRDS = PROJECT_ROOT / "schemas" / "crds"
CLUSTER_SCOPED = {"ClusterSecretStore", "Namespace"}


def crd(spec: dict[str, Any]) -> dict[str, Any]:
    group, version = spec["apiVersion"].split("/")
    kind = spec["kind"]
    plural = f"{kind.lower()}s"
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{group}",
            # *.k8s.io groups are protected; upstream's VPA CRD carries this very annotation.
            "annotations": {
                "api-approved.kubernetes.io": "https://github.com/kubernetes/kubernetes/pull/63797"
            }
            if group.endswith(".k8s.io")
            else {},
        },
        "spec": {
            "group": group,
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
            },
            "scope": "Cluster" if kind in CLUSTER_SCOPED else "Namespaced",
            "versions": [
                {
                    "name": version,
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": spec["openAPIV3Schema"]},
                }
            ],
        },
    }


def kubectl(sandbox: Sandbox, *args: str, stdin: str | None = None, check: bool = True) -> Any:
    argv = [
        str(sandbox.bin_dir / "kubectl"),
        "--kubeconfig",
        str(sandbox.kubeconfig),
        "--context",
        sandbox.context,
        *args,
    ]
    return run(argv, input_text=stdin, check=check, timeout=120)


def _served(sandbox: Sandbox, definition: dict[str, Any]) -> bool:
    spec = definition["spec"]
    path = f"/apis/{spec['group']}/{spec['versions'][0]['name']}"
    answer = kubectl(sandbox, "get", "--raw", path, check=False)
    if answer.returncode != 0:
        return False
    plurals = {r["name"] for r in json.loads(answer.stdout).get("resources", [])}
    return bool(spec["names"]["plural"] in plurals)


@pytest.mark.k8s
def test_sandbox_manifests_pass_a_strict_server_side_dry_run(
    sandbox: Sandbox, namespace: str
) -> None:
    definitions = [crd(yaml.safe_load(p.read_text())) for p in sorted(CRDS.glob("*.yaml"))]
    existing = kubectl(sandbox, "get", "crd", "-o", "name").stdout.split()
    created = [
        d["metadata"]["name"]
        for d in definitions
        if f"customresourcedefinition.apiextensions.k8s.io/{d['metadata']['name']}" not in existing
    ]
    kubectl(
        sandbox,
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=hyperscale-tests",
        "-f",
        "-",
        stdin=yaml.safe_dump_all(definitions),
    )
    try:
        for d in definitions:
            kubectl(
                sandbox,
                "wait",
                "--for=condition=Established",
                "--timeout=30s",
                f"crd/{d['metadata']['name']}",
            )
        objects = []
        for path in sorted(MANIFESTS.rglob("*.yaml")):
            if path.relative_to(MANIFESTS).parts[0] == "alertmanager":
                continue  # Alertmanager's configuration file, not Kubernetes objects
            for doc in yaml.safe_load_all(path.read_text()):
                if doc["kind"] == "Namespace":
                    doc["metadata"]["name"] = f"{namespace}-platform"
                elif doc["kind"] not in CLUSTER_SCOPED:
                    doc["metadata"]["namespace"] = namespace  # hyperscale, monitoring, argocd
                objects.append(doc)
        for d in definitions:  # Established is not yet served: wait for discovery to list it
            wait_for(lambda d=d: _served(sandbox, d), 30, f"{d['metadata']['name']} in discovery")
        done = kubectl(
            sandbox,
            "apply",
            "--server-side",
            "--dry-run=server",
            "--validate=strict",
            "--field-manager=hyperscale-tests",
            "-f",
            "-",
            stdin=yaml.safe_dump_all(objects),
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.count("serverside-applied (server dry run)") == len(objects), done.stdout
    finally:
        for name in created:
            kubectl(sandbox, "delete", "crd", name, "--wait=false", check=False)
