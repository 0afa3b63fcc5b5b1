""".github/workflows/: actionlint (built from its Go module; it runs shellcheck on every `run:`)
and check-jsonschema's vendored GitHub workflow schema, each shown failing on a broken copy."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.checkers import REPO, broken_copy, check, tool

WORKFLOWS = REPO / ".github" / "workflows"
EXPECTED = {"ci.yml", "docker.yml", "deploy-eks.yml", "security.yml"}


def test_the_four_workflows_exist() -> None:
    assert {path.name for path in WORKFLOWS.glob("*.yml")} == EXPECTED


def test_actionlint_passes() -> None:
    done = check([tool("actionlint"), "-shellcheck", tool("shellcheck")])
    assert done.returncode == 0, done.output


def test_actionlint_rejects_a_bad_expression_and_a_shell_mistake(tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path,
        ".github/workflows",
        "deploy-eks.yml",
        "${{ vars.AWS_DEPLOY_ROLE_STAGING }}",
        "${{ vars.AWS_DEPLOY_ROLE_STAGING }",
    )
    shell = copy / "ci.yml"
    shell.write_text(shell.read_text().replace("run: make test", "run: cd $DIR && make test"))
    done = check(
        [tool("actionlint"), "-shellcheck", tool("shellcheck"), *sorted(copy.glob("*.yml"))]
    )
    assert done.returncode != 0, done.output
    assert "deploy-eks.yml" in done.output
    assert "SC2086" in done.output  # shellcheck, through actionlint: $DIR unquoted


def test_workflows_match_the_github_workflow_schema() -> None:
    done = check(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.github-workflows",
            *sorted(WORKFLOWS.glob("*.yml")),
        ]
    )
    assert done.returncode == 0, done.output


def test_the_schema_rejects_an_unknown_job_key(tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path, ".github/workflows", "ci.yml", "timeout-minutes: 90", "timeout-minute: 90"
    )
    done = check(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", copy / "ci.yml"]
    )
    assert done.returncode != 0, done.output
    assert "ci.yml" in done.output


def _steps(workflow: str) -> list[dict[str, object]]:
    document = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return [step for job in document["jobs"].values() for step in job["steps"]]


def test_deploy_uses_oidc_and_an_approval_for_prod_and_stores_no_key() -> None:
    document = yaml.safe_load((WORKFLOWS / "deploy-eks.yml").read_text())
    assert document["permissions"]["id-token"] == "write"
    assert document["jobs"]["prod"]["needs"] == "staging"
    assert document["jobs"]["prod"]["environment"]["name"] == "production"
    text = (WORKFLOWS / "deploy-eks.yml").read_text()
    assert "aws-access-key-id" not in text
    assert "secrets." not in text
    runs = " ".join(str(step.get("run", "")) for step in _steps("deploy-eks.yml"))
    assert "hyperscale deploy --env staging" in runs
    assert "hyperscale deploy --env prod --yes" in runs


def test_ci_runs_make_test_and_security_runs_its_four_scanners() -> None:
    assert any(step.get("run") == "make test" for step in _steps("ci.yml"))
    security = (WORKFLOWS / "security.yml").read_text()
    for scanner in ("bandit", "pip-audit", "checkov", "detect-secrets"):
        assert scanner in security
    assert "trivy-action" in (WORKFLOWS / "docker.yml").read_text()
