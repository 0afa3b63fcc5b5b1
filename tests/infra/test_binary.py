"""Which program `hyperscale infra` runs: terraform or tofu on PATH, else the cached OpenTofu."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.infra.binary import cached_tofu, find_terraform


def _context(tmp_path: Path, path_dirs: list[Path]) -> AppContext:
    return AppContext(
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        state_dir=tmp_path / "state",
        cache_dir=tmp_path / "cache",
        environ={"PATH": ":".join(str(d) for d in path_dirs)},
    )


def _program(directory: Path, name: str) -> Path:
    # Discovery only looks for an executable file; these are never run.
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_terraform_on_path_comes_first(tmp_path: Path) -> None:
    tofu = _program(tmp_path / "a", "tofu")
    terraform = _program(tmp_path / "b", "terraform")
    app = _context(tmp_path, [tofu.parent, terraform.parent])
    assert find_terraform(app) == terraform


def test_tofu_on_path_when_there_is_no_terraform(tmp_path: Path) -> None:
    tofu = _program(tmp_path / "a", "tofu")
    assert find_terraform(_context(tmp_path, [tofu.parent])) == tofu


def test_cached_build_when_path_has_neither(tmp_path: Path) -> None:
    app = _context(tmp_path, [tmp_path / "empty"])
    built = _program(cached_tofu(app).parent, "tofu")
    assert find_terraform(app) == built


def test_nothing_found_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(ExternalSystemError) as caught:
        find_terraform(_context(tmp_path, [tmp_path / "empty"]))
    assert "scripts/build-tofu.sh" in (caught.value.hint or "")
