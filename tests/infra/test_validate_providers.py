"""`terraform validate` with the local provider mirror: it really runs on AWS code (the real
AWS provider from the machine's mirror, never a download), names the file and line of what it
finds, and is skipped, not failed, where a provider is missing from the mirror."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from hyperscale.infra.providers import MIRROR_ENV, plugin_mirror
from hyperscale.infra.validate import (
    VALIDATE_SKIPPED,
    validate_skipped,
    validate_skips,
    validate_terraform,
)
from tests.infra.conftest import MACHINE_MIRROR, needs_aws_mirror

VERSIONS_TF = """\
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "%s"
    }
  }
}
"""

#: Valid HCL and well formatted: only `terraform validate` (with the AWS schema) sees the
#: wrong type on line 3 and the undeclared variable on line 7.
MODULE_MAIN_TF = """\
resource "aws_vpc" "this" {
  cidr_block           = "10.0.0.0/16"
  enable_dns_hostnames = "sometimes"
}

resource "aws_s3_bucket" "logs" {
  bucket = var.log_bucket
}
"""

#: A root calling the module: the module's errors come back once, at the module's file.
ROOT_MAIN_TF = """\
module "network" {
  source = "../network"
}
"""

HELM_TF = """\
terraform {
  required_providers {
    helm = {
      source  = "hashicorp/helm"
      version = "~> 2.17"
    }
  }
}

resource "helm_release" "this" {
  name = var.undeclared
}
"""


@pytest.fixture
def mirror_app(isolated_app: AppContext, tmp_path: Path) -> AppContext:
    """The machine's mirror named by the variable, and an empty cache: terraform really runs."""
    assert MACHINE_MIRROR is not None
    return dataclasses.replace(
        isolated_app, cache_dir=tmp_path / "cache", environ={MIRROR_ENV: str(MACHINE_MIRROR)}
    )


def _write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


def _terraform_droppings(directory: Path) -> list[Path]:
    return [p for p in directory.rglob("*") if p.name in (".terraform", ".terraform.lock.hcl")]


@needs_aws_mirror
def test_validate_finds_aws_errors_at_their_file_and_line_and_caches_the_outcome(
    mirror_app: AppContext, tmp_path: Path
) -> None:
    fixtures = tmp_path / "tf"
    module = _write(
        fixtures / "network", {"versions.tf": VERSIONS_TF % "~> 5.95", "main.tf": MODULE_MAIN_TF}
    )
    root = _write(
        fixtures / "root", {"versions.tf": VERSIONS_TF % "~> 5.95", "main.tf": ROOT_MAIN_TF}
    )

    findings = validate_terraform([fixtures], mirror_app)

    main = (module / "main.tf").resolve()
    assert [(f.file, f.line, f.tool) for f in findings] == [
        (main, 3, "terraform validate"),
        (main, 7, "terraform validate"),
    ]
    assert "a bool is required" in findings[0].message
    assert "Reference to undeclared input variable" in findings[1].message
    assert validate_skipped([fixtures]) == []
    assert _terraform_droppings(fixtures) == [], "init must run on a scratch copy"
    # The second run is answered from the cache: same findings, no new entry.
    entries = sorted((mirror_app.cache_dir / "terraform-validate").glob("*.json"))
    assert len(entries) == len([module, root])
    assert validate_terraform([fixtures], mirror_app) == findings
    assert sorted((mirror_app.cache_dir / "terraform-validate").glob("*.json")) == entries


@needs_aws_mirror
def test_a_changed_file_is_validated_again_not_served_from_the_cache(
    mirror_app: AppContext, tmp_path: Path
) -> None:
    module = _write(
        tmp_path / "network", {"versions.tf": VERSIONS_TF % "~> 5.95", "main.tf": MODULE_MAIN_TF}
    )
    assert len(validate_terraform([module], mirror_app)) == 2
    (module / "main.tf").write_text(
        'resource "aws_vpc" "this" {\n  cidr_block = "10.0.0.0/16"\n}\n'
    )
    assert validate_terraform([module], mirror_app) == []


@needs_aws_mirror
def test_a_version_the_mirror_does_not_have_is_skipped_with_terraforms_reason(
    mirror_app: AppContext, tmp_path: Path
) -> None:
    module = _write(
        tmp_path / "old", {"versions.tf": VERSIONS_TF % "< 1.0.0", "main.tf": MODULE_MAIN_TF}
    )
    assert validate_terraform([module], mirror_app) == []
    [skip] = validate_skips([module])
    assert skip.directory == module.resolve()
    assert "hashicorp/aws" in skip.note()
    assert "no available releases match the given constraints < 1.0.0" in skip.note()


@needs_aws_mirror
def test_configuration_aliases_a_caller_would_pass_do_not_fail_validate(
    mirror_app: AppContext, tmp_path: Path
) -> None:
    # hashicorp/terraform#28490: validate on such a module alone says "missing provider".
    versions = (
        "terraform {\n  required_providers {\n    aws = {\n"
        '      source                = "hashicorp/aws"\n'
        '      version               = "~> 5.95"\n'
        "      configuration_aliases = [aws.us_east_1]\n    }\n  }\n}\n"
    )
    main = 'data "aws_region" "edge" {\n  provider = aws.us_east_1\n}\n'
    module = _write(tmp_path / "edge", {"versions.tf": versions, "main.tf": main})
    assert validate_terraform([module], mirror_app) == []
    assert sorted(p.name for p in module.iterdir()) == ["main.tf", "versions.tf"]


def test_a_provider_missing_from_the_mirror_is_skipped_not_failed(
    isolated_app: AppContext, tmp_path: Path
) -> None:
    # Runs on every machine: the mirror is an empty directory named by the variable.
    empty_mirror = tmp_path / "mirror"
    empty_mirror.mkdir()
    app = dataclasses.replace(isolated_app, environ={MIRROR_ENV: str(empty_mirror)})
    helm = _write(tmp_path / "helm", {"main.tf": HELM_TF})

    assert validate_terraform([helm], app) == []

    [skip] = validate_skips([helm])
    assert skip.directory == helm.resolve()
    assert skip.note().startswith(VALIDATE_SKIPPED)
    assert f"hashicorp/helm is not in the provider mirror {empty_mirror}" in skip.note()
    assert validate_skipped([helm]) == [helm.resolve()]


@needs_aws_mirror
def test_helm_is_skipped_with_the_machine_mirror_while_aws_next_to_it_runs(
    mirror_app: AppContext, tmp_path: Path
) -> None:
    fixtures = tmp_path / "tf"
    helm = _write(fixtures / "helm", {"main.tf": HELM_TF})
    module = _write(
        fixtures / "network", {"versions.tf": VERSIONS_TF % "~> 5.95", "main.tf": MODULE_MAIN_TF}
    )
    findings = validate_terraform([fixtures], mirror_app)
    assert {f.file.parent for f in findings} == {module.resolve()}
    assert validate_skipped([fixtures]) == [helm.resolve()]
    [skip] = validate_skips([fixtures])
    assert "hashicorp/helm is not in the provider mirror" in skip.note()


def test_the_mirror_is_the_variable_else_opt_tf_plugins_else_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The machine's default place is swapped for one this test controls: this machine has
    # /opt/tf-plugins, and a test must not create or remove it.
    default = tmp_path / "opt-tf-plugins"
    monkeypatch.setattr("hyperscale.infra.providers.DEFAULT_MIRROR", default)
    named = tmp_path / "named"
    assert plugin_mirror(AppContext(environ={MIRROR_ENV: str(named)})) == named
    assert plugin_mirror(AppContext(environ={})) is None
    default.mkdir()
    assert plugin_mirror(AppContext(environ={})) == default
    assert plugin_mirror(AppContext(environ={MIRROR_ENV: str(named)})) == named


def test_without_any_mirror_aws_code_is_skipped_and_says_how_to_name_one(
    isolated_app: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The one fake here: a machine without /opt/tf-plugins cannot be made on this one.
    monkeypatch.setattr("hyperscale.infra.providers.DEFAULT_MIRROR", tmp_path / "absent")
    module = _write(
        tmp_path / "network", {"versions.tf": VERSIONS_TF % "~> 5.95", "main.tf": MODULE_MAIN_TF}
    )
    assert validate_terraform([module], isolated_app) == []
    [skip] = validate_skips([module], isolated_app)
    assert f"hashicorp/aws: no provider mirror (set {MIRROR_ENV})" in skip.note()
