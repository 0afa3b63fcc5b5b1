"""The committed manifests (and Terraform roots) are exactly what a fresh render gives, and
every validator passes on them: the acceptance check of issue 6, run as CI runs it."""

from __future__ import annotations

import dataclasses
import json

import pytest

from hyperscale.context import PROJECT_ROOT, AppContext
from tests.conftest import invoke

TOOLS = {"checkov", "terraform", "promtool", "amtool", "kube-schema", "secrets"}
#: The committed tree is rendered from the repository's own environments, whatever ports this
#: test run's environments were moved to (a test worker's, tests/workers.py).
REPO_ENVIRONMENTS = PROJECT_ROOT / "environments"


@pytest.mark.parametrize("env", ["sandbox", "staging", "prod"])
def test_committed_tree_is_fresh_and_clean(isolated_app: AppContext, env: str) -> None:
    app = dataclasses.replace(isolated_app, environments_dir=REPO_ENVIRONMENTS)
    outcome = invoke(app, "render", "--env", env, "--check", "-o", "json")
    document = json.loads(outcome.stdout)
    data = document["data"]
    assert outcome.exit_code == 0, (data["findings"], data["stale"], data["tools"], outcome.stderr)
    assert data["findings"] == []
    assert data["stale"] == []
    assert {t["tool"] for t in data["tools"]} == TOOLS
    assert all(t["error"] is None for t in data["tools"])
    promtool = next(t for t in data["tools"] if t["tool"] == "promtool")
    assert any("cases passed" in note for note in promtool["notes"])
    assert f"manifests/{env}/api/deployment.yaml" in data["files"]


def test_local_target_has_nothing_to_render(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "render", "--env", "local", "--check")
    assert outcome.exit_code == 2
    assert "targets local, not kubernetes" in outcome.stderr
    assert "Traceback" not in outcome.stderr


def test_unknown_environment_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "render", "--env", "nowhere", "--check")
    assert outcome.exit_code == 2
    assert "unknown environment 'nowhere'" in outcome.stderr
