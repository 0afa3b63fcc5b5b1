"""Fixtures for deploys to the sandbox cluster: an environment of its own per test module (the
sandbox file with a unique namespace), images seeded in the real local registry."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from hyperscale.config.models import Environment
from hyperscale.config.secrets import generated_secret_path
from hyperscale.context import AppContext
from tests.conftest import Sandbox
from tests.images.seed import seed_image

#: The images a deploy pins (api, consumer) and the CronJobs' CLI image.
SEEDED = ("hyperscale/api", "hyperscale/consumer", "hyperscale/cli")


@dataclass
class KubeDeployEnv:
    """An environments directory whose `sandbox` deploys into ``namespace`` of the sandbox
    cluster, the context to run commands with, and the variables a subprocess needs."""

    app: AppContext
    namespace: str
    kubectl: list[str]
    registry: str
    environ: dict[str, str]

    def seed(self, tag: str) -> dict[str, str]:
        """Push api, consumer and cli images under ``tag``; repository -> digest."""
        now = dt.datetime.now(dt.UTC)
        return {repo: seed_image(self.registry, repo, [tag], now) for repo in SEEDED}

    def tag(self, label: str) -> str:
        return f"{label}-{uuid.uuid4().hex[:6]}"


def _environment_copy(shared_app: AppContext, directory: Path, namespace: str) -> None:
    shutil.copytree(shared_app.environments_dir, directory)
    path = directory / "sandbox.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["target"]["namespace"] = namespace
    data["chaos"]["allowed_namespaces"] = [namespace]
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    # The same cluster and namespace, marked protected: what prod would refuse.
    data["name"] = "sandbox-protected"
    data["protected"] = True
    (directory / "sandbox-protected.yaml").write_text(
        yaml.safe_dump(data, sort_keys=False), encoding="utf-8"
    )


@pytest.fixture(scope="module")
def kdeploy(
    sandbox: Sandbox,
    local_services: Environment,
    registry: str,
    shared_app: AppContext,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[KubeDeployEnv]:
    namespace = f"t-deploy-{uuid.uuid4().hex[:8]}"
    environments = tmp_path_factory.mktemp("kdeploy") / "environments"
    _environment_copy(shared_app, environments, namespace)
    password = generated_secret_path(shared_app, "mysql-password").read_text().strip()
    environ = {"HYPERSCALE_SANDBOX_MYSQL_PASSWORD": password}
    app = AppContext(
        state_dir=shared_app.state_dir,  # the cluster's kubeconfig and the registry live there
        cache_dir=shared_app.cache_dir,
        environments_dir=environments,
        environ=environ,
    )
    kubectl = [
        str(sandbox.bin_dir / "kubectl"),
        "--kubeconfig",
        str(sandbox.kubeconfig),
        "--context",
        sandbox.context,
        "-n",
        namespace,
    ]
    subprocess_environ = {
        **os.environ,
        **environ,
        "HYPERSCALE_ENVIRONMENTS_DIR": str(environments),
        "HYPERSCALE_STATE_DIR": str(shared_app.state_dir),
    }
    yield KubeDeployEnv(app, namespace, kubectl, registry, subprocess_environ)
    import subprocess

    subprocess.run(
        [*kubectl[:-2], "delete", "namespace", namespace, "--wait=false"],
        check=False,
        capture_output=True,
    )
