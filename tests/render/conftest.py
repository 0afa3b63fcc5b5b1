"""A private copy of the repository's rendered parts, so tests can break templates and write
manifests without touching the working tree."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hyperscale.context import PROJECT_ROOT, AppContext

#: What `hyperscale render` reads and writes, relative to the repository root. The environments
#: are the repository's own: the committed manifests were rendered from them, whatever ports
#: this run's environments were moved to (a test worker's, tests/workers.py).
RENDERED_PARTS = ("environments", "templates", "schemas", "manifests", "terraform")


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for part in RENDERED_PARTS:
        shutil.copytree(
            PROJECT_ROOT / part,
            root / part,
            ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "__pycache__"),
        )
    return root


@pytest.fixture
def copy_app(isolated_app: AppContext, repo_copy: Path) -> AppContext:
    """The isolated context, rendering from and into the copy."""
    isolated_app.templates_dir = repo_copy / "templates"
    isolated_app.environments_dir = repo_copy / "environments"
    return isolated_app


def edit(path: Path, old: str, new: str) -> None:
    """Replace text that must be there (a test that edits nothing proves nothing)."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")
