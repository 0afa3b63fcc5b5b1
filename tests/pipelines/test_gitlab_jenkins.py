"""ci-cd/gitlab-ci.yml against check-jsonschema's vendored GitLab CI schema (shown failing on a
broken copy), and the Jenkinsfile's stages calling the same commands as the other pipelines."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests.checkers import REPO, broken_copy, check, tool

GITLAB = REPO / "ci-cd" / "gitlab-ci.yml"
JENKINSFILE = REPO / "ci-cd" / "Jenkinsfile"


def test_gitlab_ci_matches_the_gitlab_schema() -> None:
    done = check([tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", GITLAB])
    assert done.returncode == 0, done.output


def test_the_gitlab_schema_rejects_a_bad_job(tmp_path: Path) -> None:
    copy = broken_copy(
        tmp_path, "ci-cd", "gitlab-ci.yml", "  when: on_failure", "  when: sometimes"
    )
    done = check(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", copy / "gitlab-ci.yml"]
    )
    assert done.returncode != 0, done.output
    assert "sometimes" in done.output


def test_gitlab_ci_runs_the_same_commands() -> None:
    text = GITLAB.read_text()
    document = yaml.safe_load(text)
    assert document["test"]["script"][-1] == "make test"
    assert "id_tokens" in text  # OIDC, no stored key
    assert document["deploy-prod"]["rules"][0]["when"] == "manual"
    for command in ("hyperscale deploy --env staging", "hyperscale deploy --env prod --yes"):
        assert command in text


def test_jenkinsfile_has_the_same_stages_and_binds_credentials() -> None:
    text = JENKINSFILE.read_text()
    stages = re.findall(r"stage\('([^']+)'\)", text)
    for stage in ("Test", "Security", "Images", "Deploy staging", "Approve prod", "Deploy prod"):
        assert stage in stages
    assert "sh 'make test'" in text
    assert text.count("withCredentials(") == 2
    assert "input message:" in text
    assert "hyperscale deploy --env prod --yes" in text
