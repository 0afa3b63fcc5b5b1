"""`--check` reports stale files and writes nothing; without it, render brings the tree to the
fresh render. A validator whose tool cannot run is exit 3 with a clear line."""

from __future__ import annotations

import json
from pathlib import Path

from hyperscale.context import AppContext
from tests.conftest import invoke
from tests.render.conftest import edit


def test_stale_manifests_fail_check_and_render_fixes_them(
    copy_app: AppContext, repo_copy: Path
) -> None:
    manifests = repo_copy / "manifests/sandbox"
    edit(manifests / "api/hpa.yaml", "averageUtilization: 65", "averageUtilization: 90")
    (manifests / "api/forgotten.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (manifests / "network/networkpolicies.yaml").unlink()

    checked = invoke(copy_app, "render", "--env", "sandbox", "--check", "-o", "json")

    assert checked.exit_code == 1
    stale = json.loads(checked.stdout)["data"]["stale"]
    assert stale == [
        {"file": "manifests/sandbox/api/hpa.yaml", "state": "changed"},
        {"file": "manifests/sandbox/network/networkpolicies.yaml", "state": "missing"},
        {"file": "manifests/sandbox/api/forgotten.yaml", "state": "extra"},
    ]
    assert "averageUtilization: 90" in (manifests / "api/hpa.yaml").read_text()  # untouched

    written = invoke(copy_app, "render", "--env", "sandbox")
    assert written.exit_code == 0, written.stdout
    assert "3 changed" in written.stdout
    assert not (manifests / "api/forgotten.yaml").exists()

    again = invoke(copy_app, "render", "--env", "sandbox", "--check")
    assert again.exit_code == 0, again.stdout


def test_table_output_lists_stale_files(copy_app: AppContext, repo_copy: Path) -> None:
    edit(repo_copy / "manifests/sandbox/namespace.yaml", "restricted", "baseline")

    outcome = invoke(copy_app, "render", "--env", "sandbox", "--check")

    assert outcome.exit_code == 1
    assert "1 stale file(s)" in outcome.stdout
    assert "changed  manifests/sandbox/namespace.yaml" in outcome.stdout


def test_missing_checkov_is_exit_3_with_the_fix(copy_app: AppContext, tmp_path: Path) -> None:
    copy_app.cache_dir = tmp_path / "empty-cache"

    outcome = invoke(copy_app, "render", "--env", "sandbox", "--check")

    assert outcome.exit_code == 3
    assert "checkov is not installed" in outcome.stdout
    assert "scripts/install-checkov.sh" in outcome.stdout
