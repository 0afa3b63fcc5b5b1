"""Stacks of terraform_data roots on the local backend, copied to a temp dir per test; the
machine's Terraform provider mirror, for the tests that run `terraform validate` on AWS code."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from hyperscale.infra.providers import mirror_versions, plugin_mirror, source_address

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    """A fresh copy of the three-module fixture stack: network -> service -> edge."""
    target = tmp_path / "stack"
    shutil.copytree(FIXTURES / "stack", target)
    return target


AWS_PROVIDER = source_address("hashicorp/aws")


def mirror_has_aws(mirror: Path | None) -> bool:
    return mirror is not None and bool(mirror_versions(mirror, AWS_PROVIDER))


#: The mirror as hyperscale finds it on this machine ($HYPERSCALE_TF_PLUGIN_DIR, /opt/tf-plugins).
MACHINE_MIRROR = plugin_mirror(AppContext(environ=dict(os.environ)))

needs_aws_mirror = pytest.mark.skipif(
    not mirror_has_aws(MACHINE_MIRROR),
    reason="no Terraform provider mirror with hashicorp/aws on this machine"
    " ($HYPERSCALE_TF_PLUGIN_DIR or /opt/tf-plugins): terraform validate cannot load the AWS"
    " provider's schema without it, and nothing can be downloaded here",
)
