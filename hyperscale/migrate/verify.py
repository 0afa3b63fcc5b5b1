"""Verification: the tree ``svn export`` gives for a branch or tag against the Git tree of
the commit it became, file by file (blob id, executable bit, symlink), including the
``.gitignore`` files the Subversion properties call for.

The Subversion side is read through svn's own client (export, proplist), not from the dump
the conversion read, so a fault in the conversion cannot hide itself.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import urllib.parse
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hyperscale.clients import git, svn
from hyperscale.migrate.results import Checked, ConvertedRef, Difference, Target
from hyperscale.migrate.tree import (
    EXECUTABLE,
    FILE,
    GITIGNORE,
    GITKEEP,
    SYMLINK,
    gitignore_text,
    wants_gitkeep,
)

#: path -> (mode, blob id)
Files = dict[str, tuple[str, str]]


def _file_id(path: Path, eol: str | None) -> str:
    if eol in ("CRLF", "CR"):  # export wrote them with those endings; the repository has LF
        data = path.read_bytes().replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return git.blob_id(data)
    size = path.stat().st_size
    digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def expected_files(url: str, revision: int, workdir: Path, *, empty_dirs: bool) -> Files:
    """What Git should hold for ``url`` at ``revision``."""
    export = workdir / "export"
    svn.export(url, revision, export)
    props = svn.properties(url, revision)
    files: Files = {}
    for top, dirnames, filenames in os.walk(export):
        here = Path(top)
        rel = here.relative_to(export).as_posix()
        prefix = "" if rel == "." else rel + "/"
        links = [d for d in dirnames if (here / d).is_symlink()]
        dirnames[:] = [d for d in dirnames if d not in links]
        for name in [*filenames, *links]:
            path = here / name
            if path.is_symlink():
                target = os.fsencode(path.readlink())
                files[prefix + name] = (SYMLINK, git.blob_id(target))
                continue
            eol = props.get(prefix + name, {}).get("svn:eol-style")
            mode = EXECUTABLE if path.stat().st_mode & stat.S_IXUSR else FILE
            files[prefix + name] = (mode, _file_id(path, eol))
        own = props.get(rel if rel != "." else "", {})
        ignores = gitignore_text(own.get("svn:ignore"), own.get("svn:global-ignores"))
        if ignores and GITIGNORE not in filenames:
            files[prefix + GITIGNORE] = (FILE, git.blob_id(ignores))
        if wants_gitkeep(bool(dirnames or filenames or links), bool(ignores), empty_dirs):
            files[prefix + GITKEEP] = (FILE, git.blob_id(b""))
    return files


def _scratch(size: int, workers: int) -> str | None:
    """Where to export a tree of about ``size`` bytes: memory (/dev/shm) when it has room for
    every worker's tree with a wide margin (each export is hashed and deleted at once; on a
    busy disk this makes verification 3-4x faster), else the temporary directory."""
    shm = Path("/dev/shm")  # noqa: S108 - only the parent of a mkdtemp directory (0700)
    try:
        room = shutil.disk_usage(shm).free if os.access(shm, os.W_OK) else 0
    except OSError:
        return None
    return str(shm) if size * workers * 4 < room else None


def compare(ref: str, expected: Files, actual: Files) -> list[Difference]:
    found = []
    for path in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(path), actual.get(path)
        if have is None:
            found.append(Difference(ref, path, "missing in git"))
        elif want is None:
            found.append(Difference(ref, path, "not in svn"))
        elif want[0] != have[0]:
            problem = (
                "executable bit differs"
                if SYMLINK not in (want[0], have[0])
                else ("symlink differs")
            )
            found.append(Difference(ref, path, problem, want[0], have[0]))
        elif want[1] != have[1]:
            found.append(Difference(ref, path, "content differs", want[1][:12], have[1][:12]))
    return found


def check(
    git_dir: Path, root_url: str, target: Target, *, empty_dirs: bool, workers: int = 1
) -> Checked:
    if target.commit is None:
        return Checked(target, 0, [Difference(target.label, "", "missing in git")])
    entries = git.ls_tree(git_dir, target.commit)
    actual = {e.path: (e.mode, e.sha) for e in entries}
    url = f"{root_url}/{urllib.parse.quote(target.svn_path, safe='/')}"
    scratch = _scratch(sum(e.size for e in entries), workers)
    with tempfile.TemporaryDirectory(prefix="hyperscale-verify-", dir=scratch) as tmp:
        expected = expected_files(url, target.revision, Path(tmp), empty_dirs=empty_dirs)
    return Checked(target, len(expected), compare(target.label, expected, actual))


def verify(
    git_dir: Path,
    root_url: str,
    targets: list[Target],
    *,
    empty_dirs: bool,
    progress: Callable[[int, int], None],
    workers: int | None = None,
) -> list[Checked]:
    """Every target compared, a few at a time (each is an svn export and a git ls-tree)."""
    done: list[Checked] = []
    progress(0, len(targets))
    workers = workers or max(2, min(8, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for checked in pool.map(
            lambda t: check(git_dir, root_url, t, empty_dirs=empty_dirs, workers=workers), targets
        ):
            done.append(checked)
            progress(len(done), len(targets))
    return done


def check_refs(
    refs: list[ConvertedRef], heads: dict[str, str | None], present: dict[str, git.Ref]
) -> list[Difference]:
    """Every branch and tag is in Git where the migration put it, and Git has no others."""
    found = []
    expected = set()
    for ref in refs:
        name = f"refs/{'heads' if ref.kind == 'branch' else 'tags'}/{ref.name}"
        expected.add(name)
        label = f"{ref.kind} {ref.name}"
        made = heads.get(ref.svn_path)
        if not ref.commit:
            found.append(Difference(label, "", "missing in git"))
        elif made and ref.commit != made:
            found.append(
                Difference(label, "", "moved since the migration", made[:12], ref.commit[:12])
            )
    found += [Difference(n, "", "in git, not in svn") for n in sorted(present.keys() - expected)]
    return found


def sample(commits: list[tuple[int, str, str]], size: int) -> list[tuple[int, str, str]]:
    """About ``size`` commits spread over the history, always with the newest."""
    step = max(1, len(commits) // size)
    return sorted(commits[::-1][::step][:size])
