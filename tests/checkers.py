"""The outside checkers the legacy-path and pipeline tests run, where bootstrap installed them.

scripts/install-pipeline-tools.sh (ansible-core, ansible-lint, check-jsonschema) and
scripts/build-go-tools.sh (actionlint, helm) put them under the cache directory; packer and
shellcheck are Debian packages. A missing tool fails the test with the command that installs it:
these checks are the point of the tests, so none is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from hyperscale.context import AppContext

REPO = Path(__file__).resolve().parent.parent

_INSTALLERS = {
    "pipeline-tools": "bash scripts/install-pipeline-tools.sh",
    "go-tools": "bash scripts/build-go-tools.sh",
    "debian": "make bootstrap (Debian packages)",
}


def cache_dir() -> Path:
    return AppContext.from_os().cache_dir


def pipeline_venv() -> Path:
    return cache_dir() / "pipeline-tools" / "venv"


def tool(name: str) -> Path:
    """The path of a checker; the test fails, naming its installer, when it is not there."""
    if name in ("ansible-playbook", "ansible-lint", "check-jsonschema"):
        path, installer = pipeline_venv() / "bin" / name, "pipeline-tools"
    elif name in ("actionlint", "helm"):
        path, installer = cache_dir() / "go-tools" / "bin" / name, "go-tools"
    else:
        found = shutil.which(name)
        path, installer = Path(found or f"/usr/bin/{name}"), "debian"
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"{name} is not installed at {path}: run {_INSTALLERS[installer]}", pytrace=False
        )
    return path


@dataclass(frozen=True)
class Checked:
    returncode: int
    output: str  # stdout and stderr together, as a person reads them


def check(
    argv: Sequence[str | Path],
    *,
    cwd: Path = REPO,
    env: Mapping[str, str] | None = None,
    timeout: float = 240,
) -> Checked:
    """Run a checker; its exit code and everything it printed."""
    environ = {**os.environ, "NO_COLOR": "1", "PY_COLORS": "0", "ANSIBLE_NOCOLOR": "1"}
    # ansible-lint and ansible-playbook find their own venv's programs through PATH.
    environ["PATH"] = f"{pipeline_venv() / 'bin'}{os.pathsep}{environ.get('PATH', os.defpath)}"
    environ.update(env or {})
    done = subprocess.run(
        [str(a) for a in argv],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Checked(done.returncode, done.stdout + done.stderr)


def broken_copy(tmp_path: Path, tree: str, relative: str, old: str, new: str) -> Path:
    """A copy of ``tree`` (relative to the repository) with one file's ``old`` text replaced:
    the way each test proves its checker really reads the files."""
    copy = tmp_path / Path(tree).name
    shutil.copytree(REPO / tree, copy, ignore=shutil.ignore_patterns(".cache", "__pycache__"))
    target = copy / relative
    text = target.read_text()
    assert old in text, f"{relative} no longer contains {old!r}: update the test's broken copy"
    target.write_text(text.replace(old, new, 1))
    return copy
