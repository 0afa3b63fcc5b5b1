"""validate_terraform: fmt, HCL parse and validate findings, each with its file and line."""

from __future__ import annotations

from pathlib import Path

from hyperscale.context import AppContext
from hyperscale.infra.providers import plugin_mirror
from hyperscale.infra.validate import (
    VALIDATE_SKIPPED,
    validate_skipped,
    validate_skips,
    validate_terraform,
)
from tests.infra.conftest import mirror_has_aws

#: Where the repository's committed roots live.
live_dir = AppContext().live_dir

MODULES = Path(__file__).resolve().parents[2] / "terraform" / "modules"


def test_badly_formatted_file_is_reported_at_its_first_unformatted_line(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    path = tmp_path / "main.tf"
    path.write_text('variable "a" {\n  type = string\n}\n\noutput "b" {\n  value=var.a\n}\n')
    findings = validate_terraform([tmp_path], isolated_app)
    assert [(f.file, f.line, f.tool) for f in findings] == [(path, 6, "terraform fmt")]


def test_broken_hcl_is_reported_with_file_and_line(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    good = tmp_path / "good.tf"
    good.write_text('output "a" {\n  value = 1\n}\n')
    broken = tmp_path / "broken.tf"
    broken.write_text('output "b" {\n  value = 1\n}\n\nresource "x" "y" {\n  count =\n}\n')
    findings = validate_terraform([good, broken], isolated_app)
    assert len(findings) == 1
    assert (findings[0].file, findings[0].line, findings[0].tool) == (broken, 6, "hcl")
    assert "not valid HCL" in findings[0].message


def test_terraform_validate_runs_where_no_provider_is_needed(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    (tmp_path / "main.tf").write_text('resource "terraform_data" "a" {\n  input = var.missing\n}\n')
    findings = validate_terraform([tmp_path], isolated_app)
    assert [(f.tool, f.file.name, f.line) for f in findings] == [
        ("terraform validate", "main.tf", 2)
    ]
    assert "Reference to undeclared input variable" in findings[0].message
    assert validate_skipped([tmp_path]) == []


def test_a_module_source_that_does_not_exist_is_an_init_finding_at_its_line(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text('module "m" {\n  source = "../nowhere"\n}\n')
    findings = validate_terraform([root], isolated_app)
    assert (root / "main.tf", 1, "terraform init") in [(f.file, f.line, f.tool) for f in findings]
    assert {f.message for f in findings} == {"Unreadable module directory"}
    assert validate_skipped([root]) == []
    assert sorted(p.name for p in root.iterdir()) == ["main.tf"]


def test_committed_roots_and_modules_are_clean_and_validate_runs_where_the_mirror_allows(
    isolated_app: AppContext,
) -> None:
    # isolated_app has no environment variables: the mirror is /opt/tf-plugins if it exists.
    paths = [live_dir("staging"), live_dir("prod"), MODULES]
    assert validate_terraform(paths, isolated_app) == []
    skips = {s.directory: s for s in validate_skips(paths)}
    assert set(validate_skipped(paths)) == set(skips)
    if mirror_has_aws(plugin_mirror(isolated_app)):
        # Everything but the Helm users really ran `terraform validate`.
        assert set(skips) == {
            MODULES / "alb-ingress",
            live_dir("staging") / "alb-ingress",
            live_dir("prod") / "alb-ingress",
        }
        assert (
            "hashicorp/helm is not in the provider mirror" in skips[MODULES / "alb-ingress"].note()
        )
    else:
        assert live_dir("prod") / "vpc" in skips
        assert MODULES / "vpc" in skips
    assert all(s.note().startswith(VALIDATE_SKIPPED) for s in skips.values())
    # each note names the provider that is missing, so the reader knows what to add
    assert all("hashicorp/" in s.note() for s in skips.values())
