"""Stacks of terraform_data roots on the local backend, copied to a temp dir per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def stack_dir(tmp_path: Path) -> Path:
    """A fresh copy of the three-module fixture stack: network -> service -> edge."""
    target = tmp_path / "stack"
    shutil.copytree(FIXTURES / "stack", target)
    return target
