"""Real Subversion repositories for the migration tests, made with svnadmin and svn."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

SVN_ENV = {**os.environ, "LC_ALL": "C.UTF-8"}
#: A PNG header and some bytes no text encoding survives.
BINARY = bytes(range(256)) * 4 + b"\x89PNG\r\n\x1a\n\x00\x00"
NON_ASCII = "docs/café résumé.txt"
#: Who commits in the rich repository; mallory is left out of the authors file.
AUTHORS = {
    "alice": "Alice Archer <alice@example.org>",
    "bob": "Bob Baker <bob@example.org>",
    "carol": "Carol Cole <carol@example.org>",
    "dave": "Dave Dunn <dave@example.org>",
}
MISSING_AUTHOR = "mallory"


def svn(*args: str, cwd: Path | None = None, user: str = "alice") -> str:
    done = subprocess.run(
        ["svn", "--non-interactive", "--username", user, *args],
        cwd=cwd,
        env=SVN_ENV,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"svn {' '.join(args)}: {done.stderr}"
    return done.stdout


def create(path: Path) -> str:
    subprocess.run(["svnadmin", "create", str(path)], check=True, env=SVN_ENV)
    return path.as_uri()


def write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def commit(wc: Path, message: str, user: str) -> None:
    svn("commit", "-m", message, cwd=wc, user=user)
    svn("update", "--quiet", cwd=wc, user=user)


def copy(url: str, source: str, target: str, message: str, user: str) -> None:
    """A server-side copy: how branches and tags are made."""
    svn("copy", "-m", message, f"{url}/{source}", f"{url}/{target}", user=user)


@dataclass(frozen=True)
class RichRepository:
    path: Path
    url: str
    authors_file: Path
    head: int
    #: The revision that modified tag v1.1 after it was made.
    tag_modified_rev: int


def build_rich(root: Path) -> RichRepository:
    """Trunk, two branches, three tags (v1.1 changed after tagging), a rename, a deletion, a
    binary file, an executable script, svn:ignore on two directories, a non-ASCII path and
    a committer (mallory) the authors file lacks."""
    url = create(root / "repo")
    wc = root / "wc"
    svn("mkdir", "-m", "standard layout", f"{url}/trunk", f"{url}/branches", f"{url}/tags")
    svn("checkout", "--quiet", f"{url}/trunk", str(wc))  # r1
    write(wc / "README.md", "# Widget\n\nThe widget service.\n")
    write(wc / "src/app.py", "def main():\n    return 'v1'\n")
    write(wc / "src/util.py", "def helper(x):\n    return x * 2\n")
    write(wc / "bin/run.sh", '#!/bin/sh\nexec python3 -m app "$@"\n')
    write(wc / "assets/logo.png", BINARY)
    write(wc / NON_ASCII, "Curriculum vitæ, naïve café.\n")
    write(wc / "docs/old.txt", "to be removed\n")
    svn("add", "--quiet", *(p.name for p in wc.iterdir() if p.name != ".svn"), cwd=wc)
    svn("propset", "--quiet", "svn:executable", "*", "bin/run.sh", cwd=wc)
    svn("propset", "--quiet", "svn:mime-type", "image/png", "assets/logo.png", cwd=wc)
    svn("propset", "--quiet", "svn:ignore", "*.log\nbuild\n", ".", cwd=wc)
    svn("propset", "--quiet", "svn:ignore", "*.pyc\n__pycache__\n", "src", cwd=wc)
    commit(wc, "Import the widget", "bob")  # r2
    copy(url, "trunk", "tags/v1.0", "Tag 1.0", "carol")  # r3
    write(wc / "src/app.py", "def main():\n    return 'v2'\n")
    svn("move", "--quiet", "src/util.py", "src/helpers.py", cwd=wc)
    commit(wc, "Rename util to helpers", "alice")  # r4
    copy(url, "trunk", "branches/feature-x", "Branch feature-x", "bob")  # r5
    feature = root / "feature"
    svn("checkout", "--quiet", f"{url}/branches/feature-x", str(feature))
    write(feature / "src/feature.py", "FEATURE = True\n")
    svn("add", "--quiet", "src/feature.py", cwd=feature)
    commit(feature, "Feature X", "bob")  # r6
    copy(url, "trunk@4", "branches/release-1", "Branch release-1", "alice")  # r7
    svn("delete", "--quiet", "docs/old.txt", cwd=wc)
    commit(wc, "Drop the old notes", MISSING_AUTHOR)  # r8
    copy(url, "trunk", "tags/v1.1", "Tag 1.1", "carol")  # r9
    tag = root / "tag"
    svn("checkout", "--quiet", f"{url}/tags/v1.1", str(tag))
    write(tag / "README.md", "# Widget 1.1\n\nThe widget service, release notes fixed.\n")
    commit(tag, "Fix the README of tag 1.1", "dave")  # r10
    copy(url, "branches/release-1", "tags/v2.0", "Tag 2.0 from release-1", "carol")  # r11
    write(wc / "src/app.py", "def main():\n    return 'v3'\n")
    commit(wc, "Work after the tags", "alice")  # r12
    authors = root / "authors.txt"
    authors.write_text("".join(f"{u} = {who}\n" for u, who in AUTHORS.items()), encoding="utf-8")
    return RichRepository(root / "repo", url, authors, head=12, tag_modified_rev=10)


def revision_props(url: str, revision: int) -> dict[str, str]:
    """svn:author, svn:date and svn:log of a revision."""
    props = {}
    for name in ("svn:author", "svn:date", "svn:log"):
        props[name] = svn("propget", "--revprop", "-r", str(revision), name, url).rstrip("\n")
    return props


def git(git_dir: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def refs(git_dir: Path) -> dict[str, str]:
    """Every ref of the converted repository and the object it names."""
    text = git(git_dir, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ") for line in text.splitlines())
