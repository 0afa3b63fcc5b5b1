"""for_env picks the target an environment names; commands work through it without knowing it."""

from __future__ import annotations

import json

import pytest
import yaml

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.targets import for_env, require_kubernetes, require_local
from hyperscale.targets.kubernetes import KubernetesTarget
from hyperscale.targets.local import LocalTarget
from tests.conftest import invoke


def test_each_environment_gets_the_target_it_names(isolated_app: AppContext) -> None:
    local = for_env(load_environment(isolated_app, "local"), isolated_app)
    sandbox = for_env(load_environment(isolated_app, "sandbox"), isolated_app)
    assert isinstance(local, LocalTarget)
    assert local.kind == "local"
    assert isinstance(sandbox, KubernetesTarget)
    assert sandbox.kind == "kubernetes"
    assert "context" in sandbox.description


def test_require_names_the_kind_an_environment_has(isolated_app: AppContext) -> None:
    local_env = load_environment(isolated_app, "local")
    prod = load_environment(isolated_app, "prod")
    assert isinstance(require_local(local_env, isolated_app, "x", hint="y"), LocalTarget)
    with pytest.raises(UsageError, match="environment 'prod' targets kubernetes; needs processes"):
        require_local(prod, isolated_app, "needs processes", hint="use --env local")
    with pytest.raises(UsageError, match="targets local, not kubernetes: nothing to render"):
        require_kubernetes(local_env, isolated_app, "nothing to render", hint="h")


def test_a_kubernetes_target_without_its_cluster_says_so(isolated_app: AppContext) -> None:
    """Status on the sandbox with no cluster (this context's state has no kubeconfig): exit 3
    and one line naming the kubeconfig and the context, no traceback."""
    outcome = invoke(isolated_app, "status", "--env", "sandbox")
    assert outcome.exit_code == 3
    assert "cannot use context 'kwok-hyperscale-sandbox' of kubeconfig" in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_deploy_to_prod_without_yes_stops_before_any_change(isolated_app: AppContext) -> None:
    """Refused before the cluster is even contacted (the guard fails any read of ~/.kube):
    no schema, no topics, no lock."""
    outcome = invoke(isolated_app, "deploy", "--env", "prod", "-o", "json")
    assert outcome.exit_code == 2
    [error] = json.loads(outcome.stdout)["errors"]
    assert (
        "prod is protected: refusing to deploy the platform without confirmation"
        in (error["message"])
    )
    assert not (isolated_app.state_dir / "platform").exists()


def _protect(app: AppContext, name: str = "local") -> None:
    path = app.environments_dir / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    data["protected"] = True
    path.write_text(yaml.safe_dump(data))


def test_deploy_to_a_protected_environment_needs_yes(isolated_app: AppContext) -> None:
    """Confirmed once, in core, before the schema is touched: nothing is started."""
    _protect(isolated_app)
    outcome = invoke(isolated_app, "deploy", "--env", "local")
    assert outcome.exit_code == 2
    assert "local is protected: refusing to deploy the platform without confirmation" in (
        outcome.stderr
    )
    assert "--yes" in outcome.stderr
    assert not (isolated_app.state_dir / "platform").exists()


def test_smoke_on_a_protected_environment_needs_yes(isolated_app: AppContext) -> None:
    """The smoke test writes orders: refused before a single request (no API runs here)."""
    _protect(isolated_app)
    outcome = invoke(isolated_app, "smoke", "--env", "local")
    assert outcome.exit_code == 2
    assert "local is protected: refusing to write test orders" in outcome.stderr
