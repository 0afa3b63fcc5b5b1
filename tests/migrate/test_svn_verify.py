"""Verification finds what changed in Git after the migration, names it, and exits 1."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from tests.migrate.builders import RichRepository, git
from tests.migrate.conftest import mapped, migrate, migrate_json


def tamper(dest: Path, tmp_path: Path, edit: dict[str, str | None], branch: str = "main") -> None:
    """A commit on ``branch`` made in a clone and pushed back, as a person would."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "-b", branch, str(dest), str(clone)], check=True)
    for name, content in edit.items():
        if content is None:
            (clone / name).unlink()
        else:
            (clone / name).write_text(content)
    identity = ["-c", "user.name=Eve", "-c", "user.email=eve@example.org"]
    subprocess.run(["git", "-C", str(clone), *identity, "commit", "-qam", "tamper"], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "--quiet", "origin", branch], check=True)


@pytest.fixture
def converted(isolated_app: AppContext, rich: RichRepository, tmp_path: Path) -> Path:
    dest = tmp_path / "widget.git"
    assert migrate_json(isolated_app, rich.url, str(dest), *mapped(rich))[0] == 0
    return dest


def test_a_file_changed_after_the_migration_is_named_and_exits_1(
    isolated_app: AppContext, rich: RichRepository, converted: Path, tmp_path: Path
) -> None:
    tamper(converted, tmp_path, {"src/app.py": "def main():\n    return 'evil'\n"})
    outcome = migrate(isolated_app, rich.url, str(converted), *mapped(rich))
    assert outcome.exit_code == 1
    assert "branch main: src/app.py: content differs" in outcome.stdout
    assert "2 differences" in outcome.stdout

    code, document = migrate_json(isolated_app, rich.url, str(converted), *mapped(rich))
    assert code == 1
    assert document["status"] == "failed"
    differences = document["data"]["verification"]["differences"]
    assert [(d["ref"], d["path"], d["problem"]) for d in differences] == [
        ("branch main", "", "moved since the migration"),
        ("branch main", "src/app.py", "content differs"),
    ]
    checked = {c["ref"]: c["differences"] for c in document["data"]["verification"]["checked"]}
    assert checked["branch main"] == 1
    assert sum(checked.values()) == 1  # every other branch and tag still matches


def test_a_lost_file_and_a_lost_executable_bit_are_named(
    isolated_app: AppContext, rich: RichRepository, converted: Path, tmp_path: Path
) -> None:
    tamper(converted, tmp_path, {"README.md": None})
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "-C", str(clone), "update-index", "--chmod=-x", "bin/run.sh"], check=True
    )
    identity = ["-c", "user.name=Eve", "-c", "user.email=eve@example.org"]
    subprocess.run(["git", "-C", str(clone), *identity, "commit", "-qm", "chmod"], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "--quiet", "origin", "main"], check=True)
    code, document = migrate_json(isolated_app, rich.url, str(converted), *mapped(rich))
    assert code == 1
    problems = {(d["path"], d["problem"]) for d in document["data"]["verification"]["differences"]}
    assert ("README.md", "missing in git") in problems
    assert ("bin/run.sh", "executable bit differs") in problems


def test_sample_verification_checks_history_and_where_refs_point(
    isolated_app: AppContext, rich: RichRepository, converted: Path, tmp_path: Path
) -> None:
    code, document = migrate_json(
        isolated_app, rich.url, str(converted), *mapped(rich), "--verify", "sample"
    )
    assert code == 0, document
    checked = document["data"]["verification"]["checked"]
    assert checked
    assert all(c["ref"].startswith("r") for c in checked)
    assert document["data"]["verification"]["passed"] is True

    git(converted, "tag", "extra", "main")
    tamper(converted, tmp_path, {"README.md": "changed\n"}, branch="release-1")
    code, document = migrate_json(
        isolated_app, rich.url, str(converted), *mapped(rich), "--verify", "sample"
    )
    assert code == 1
    problems = {(d["ref"], d["problem"]) for d in document["data"]["verification"]["differences"]}
    assert problems == {
        ("branch release-1", "moved since the migration"),
        ("refs/tags/extra", "in git, not in svn"),
    }
    none = migrate(isolated_app, rich.url, str(converted), *mapped(rich), "--verify", "none")
    assert none.exit_code == 0
    assert "verification: skipped" in none.stdout
