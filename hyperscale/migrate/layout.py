"""Where branches and tags live in the Subversion repository, and what they are called in Git."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from hyperscale.errors import UsageError

BRANCH, TAG = "branch", "tag"
#: The Git branch trunk becomes.
TRUNK_BRANCH = "main"


@dataclass(frozen=True)
class RefRoot:
    """A Subversion directory that is a Git branch or tag: trunk, branches/X or tags/Y."""

    path: str  # repository path, no leading slash
    kind: str  # BRANCH or TAG
    svn_name: str  # trunk, X, Y


@dataclass(frozen=True)
class Layout:
    """Paths are relative to the repository root (the URL's own path already prefixed)."""

    trunk: str | None
    branches: str | None
    tags: str | None
    #: The repository path of the URL converted ("" for the repository root).
    prefix: str = ""

    @classmethod
    def from_options(
        cls,
        prefix: str,
        *,
        stdlayout: bool,
        trunk: str | None,
        branches: str | None,
        tags: str | None,
    ) -> Layout:
        custom = (trunk, branches, tags)
        if stdlayout and any(custom):
            raise UsageError(
                "--stdlayout and --trunk/--branches/--tags exclude each other",
                hint="give --stdlayout, or the paths of your own layout",
            )
        if not any(custom):
            trunk, branches, tags = "trunk", "branches", "tags"
        paths = [p.strip("/") for p in (trunk, branches, tags) if p is not None]
        if any(not p for p in paths):
            raise UsageError("a layout path is empty", hint="give paths such as --trunk trunk")
        for a in paths:
            for b in paths:
                if a != b and (b + "/").startswith(a + "/"):
                    raise UsageError(
                        f"layout path {b} is inside {a}",
                        hint="trunk, branches and tags must be separate directories",
                    )
        if len(set(paths)) != len(paths):
            raise UsageError("two layout options name the same path", hint="give distinct paths")

        def full(path: str | None) -> str | None:
            return None if path is None else "/".join(p for p in (prefix, path.strip("/")) if p)

        return cls(trunk=full(trunk), branches=full(branches), tags=full(tags), prefix=prefix)

    def to_data(self) -> dict[str, Any]:
        return {
            "trunk": self.trunk,
            "branches": self.branches,
            "tags": self.tags,
            "prefix": self.prefix,
        }

    def inside_prefix(self, path: str) -> bool:
        return not self.prefix or path == self.prefix or path.startswith(self.prefix + "/")

    def ref_root(self, path: str) -> RefRoot | None:
        """The branch or tag ``path`` lies in (or is), None outside the layout."""
        if self.trunk is not None and (path == self.trunk or path.startswith(self.trunk + "/")):
            return RefRoot(self.trunk, BRANCH, "trunk")
        for container, kind in ((self.branches, BRANCH), (self.tags, TAG)):
            if container is not None and path.startswith(container + "/"):
                name = path[len(container) + 1 :].split("/", 1)[0]
                return RefRoot(f"{container}/{name}", kind, name)
        return None

    def containers(self) -> list[str]:
        """The layout's own directories: trunk, and the parents of branches and tags."""
        return [p for p in (self.trunk, self.branches, self.tags) if p is not None]

    def covers(self, path: str) -> bool:
        """True when ``path`` is a layout directory or one of their ancestors."""
        return any(path in ("", c) or c.startswith(path + "/") for c in self.containers())


_BAD = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//")


def git_name(svn_name: str) -> str:
    """A ref name Git accepts (git check-ref-format), close to the Subversion one."""
    name = _BAD.sub("-", svn_name).strip("/")
    parts = [p.lstrip(".").removesuffix(".lock") or "-" for p in name.split("/")]
    name = "/".join(parts).rstrip(".")
    return name if name and name != "@" else "-"
