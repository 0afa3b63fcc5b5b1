"""The revision a build is tagged with: the git commit, ``-dirty`` when the tree has changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hyperscale.errors import UsageError
from hyperscale.runner import run


@dataclass(frozen=True)
class Revision:
    commit: str
    dirty: bool
    source_url: str

    @property
    def tag(self) -> str:
        short = self.commit[:12]
        return f"{short}-dirty" if self.dirty else short


def revision(root: Path) -> Revision:
    head = run(["git", "-C", str(root), "rev-parse", "HEAD"], check=False, what="git rev-parse")
    if head.returncode != 0:
        raise UsageError(
            f"{root} is not a git checkout with a commit: images are tagged by the commit",
            hint="build from a clone of the repository",
        )
    status = run(
        ["git", "-C", str(root), "status", "--porcelain"],
        what="git status",
    )
    remote = run(
        ["git", "-C", str(root), "remote", "get-url", "origin"], check=False, what="git remote"
    )
    url = remote.stdout.strip() if remote.returncode == 0 else f"file://{root}"
    return Revision(head.stdout.strip(), bool(status.stdout.strip()), url)
