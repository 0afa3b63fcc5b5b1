"""Git through its own program: a bare repository, its refs and trees, pushes, and a
``git fast-import`` session spoken to as a stream. Every call goes through hyperscale.runner."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hyperscale import runner
from hyperscale.errors import ExternalSystemError

NULL_SHA = "0" * 40
#: Git's modes for what a tree entry can be.
FILE, EXECUTABLE, SYMLINK = "100644", "100755", "120000"
#: Written to the import in pieces of about this size.
_FLUSH_AT = 1 << 18


@dataclass(frozen=True)
class Signature:
    """Who and when, as a commit or a tag records it (UTC)."""

    name: str
    email: str
    when: int

    def line(self) -> str:
        return f"{self.name} <{self.email}> {self.when} +0000"


@dataclass(frozen=True)
class Ref:
    name: str
    #: The object the ref names (a tag object for an annotated tag).
    object: str
    type: str
    #: The commit behind it (the tag's target, or the object itself for a branch).
    commit: str


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    sha: str
    path: str
    size: int


def _git(git_dir: Path, *args: str, what: str, input_text: str | None = None) -> str:
    return runner.run(
        ["git", f"--git-dir={git_dir}", *args], what=what, input_text=input_text
    ).stdout


def blob_id(data: bytes) -> str:
    """The id git gives a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def is_repository(path: Path) -> bool:
    done = runner.run(
        ["git", f"--git-dir={path}", "rev-parse", "--git-dir"], check=False, what="git rev-parse"
    )
    return done.returncode == 0


def init_bare(path: Path, branch: str) -> None:
    runner.run(
        ["git", "init", "--quiet", "--bare", f"--initial-branch={branch}", str(path)],
        what=f"git init {path}",
    )


def refs(git_dir: Path, *patterns: str) -> dict[str, Ref]:
    fmt = "%(refname)%00%(objectname)%00%(objecttype)%00%(*objectname)"
    text = _git(git_dir, "for-each-ref", f"--format={fmt}", *patterns, what="git for-each-ref")
    found = {}
    for line in text.splitlines():
        name, obj, kind, peeled = line.split("\0")
        found[name] = Ref(name, obj, kind, peeled or obj)
    return found


def ls_tree(git_dir: Path, treeish: str) -> list[TreeEntry]:
    """Every file (blob or symlink) of a commit's tree, recursively."""
    args = ("ls-tree", "-r", "-z", "-l", "--full-tree", treeish)
    text = _git(git_dir, *args, what="git ls-tree")
    entries = []
    for record in text.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, kind, sha, size = meta.split()
        if kind == "blob":
            entries.append(TreeEntry(mode, sha, path, int(size)))
    return entries


def delete_refs(git_dir: Path, names: Iterable[str]) -> None:
    commands = "".join(f"delete {name}\n" for name in names)
    if commands:
        _git(git_dir, "update-ref", "--stdin", what="git update-ref", input_text=commands)


def set_head(git_dir: Path, branch: str) -> None:
    _git(git_dir, "symbolic-ref", "HEAD", f"refs/heads/{branch}", what="git symbolic-ref")


def gc_auto(git_dir: Path) -> None:
    """Repack only if the imports left enough loose packs to slow the repository down."""
    _git(git_dir, "gc", "--auto", "--quiet", what="git gc --auto")


def push(git_dir: Path, remote: str, refspecs: list[str]) -> str:
    done = runner.run(
        ["git", f"--git-dir={git_dir}", "push", "--porcelain", remote, *refspecs],
        what=f"git push {remote}",
    )
    return done.stdout


def _quote(path: str) -> str:
    """fast-import reads a path to the end of the line; quote the ones that would confuse it."""
    if path.startswith('"') or "\n" in path:
        escaped = path.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    return path


class FastImport:
    """One ``git fast-import`` process: blobs, commits, tags and ref resets written as a
    stream, with the few questions it answers (marks, blobs) read back on its stdout."""

    def __init__(self, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self._in = stdin
        self._out = stdout
        self._pending = bytearray()

    def _write(self, data: bytes) -> None:
        self._pending += data
        if len(self._pending) >= _FLUSH_AT:
            self._flush()

    def _flush(self) -> None:
        try:
            self._in.write(self._pending)
            self._in.flush()
        except BrokenPipeError as exc:
            raise ExternalSystemError("git fast-import stopped reading its input") from exc
        self._pending.clear()

    def _readline(self) -> bytes:
        line = self._out.readline()
        if not line:
            raise ExternalSystemError("git fast-import exited in the middle of the import")
        return line

    def blob(self, data: bytes) -> str:
        """Store a blob; its id is computed here, so nobody waits for fast-import's answer."""
        self._write(b"blob\ndata %d\n" % len(data) + data + b"\n")
        return blob_id(data)

    def blob_from_chunks(self, size: int, chunks: Iterable[bytes]) -> str:
        """A blob streamed in pieces (large files never sit whole in memory)."""
        digest = hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)
        self._write(b"blob\ndata %d\n" % size)
        written = 0
        for chunk in chunks:
            digest.update(chunk)
            written += len(chunk)
            self._write(chunk)
        if written != size:
            raise ExternalSystemError(f"a blob of {size} bytes ended after {written}")
        self._write(b"\n")
        return digest.hexdigest()

    def commit(
        self,
        ref: str,
        *,
        mark: int,
        author: Signature,
        message: str,
        parent: str | None,
        changes: Iterable[tuple[str, str, str, str]],
    ) -> None:
        """A commit; ``parent`` is ":mark" or a sha; each change is ("M", mode, blob, path) or
        ("D", "", "", path), applied in order on top of the parent's tree."""
        text = message.encode("utf-8")
        if parent is None:  # a root commit: forget whatever the ref held in this session
            self._write(f"reset {ref}\n\n".encode())
        head = (
            f"commit {ref}\nmark :{mark}\nauthor {author.line()}\n"
            f"committer {author.line()}\ndata {len(text)}\n"
        ).encode()
        self._write(head + text + b"\n")
        if parent is not None:
            self._write(f"from {parent}\n".encode())
        for action, mode, blob, path in changes:
            if action == "M":
                self._write(f"M {mode} {blob} {_quote(path)}\n".encode())
            else:
                self._write(f"D {_quote(path)}\n".encode())
        self._write(b"\n")

    def reset(self, ref: str, target: str | None) -> None:
        """Point ``ref`` at ``target`` (":mark" or sha); None deletes the ref."""
        self._write(f"reset {ref}\nfrom {target or NULL_SHA}\n\n".encode())

    def tag(self, name: str, target: str, tagger: Signature, message: str) -> None:
        text = message.encode("utf-8")
        head = f"tag {name}\nfrom {target}\ntagger {tagger.line()}\ndata {len(text)}\n"
        self._write(head.encode() + text + b"\n")

    def marks(self, marks: Iterable[int]) -> dict[int, str]:
        """The object ids of commits written under these marks."""
        wanted = list(marks)
        for mark in wanted:
            self._write(f"get-mark :{mark}\n".encode())
        self._flush()
        return {mark: self._readline().decode().strip() for mark in wanted}

    def cat_blob(self, sha: str) -> bytes:
        self._write(f"cat-blob {sha}\n".encode())
        self._flush()
        name, _, rest = self._readline().decode().partition(" ")
        kind, _, size = rest.partition(" ")
        if kind != "blob" or not size.strip().isdigit():
            raise ExternalSystemError(f"git fast-import has no blob {sha}: {name} {rest}")
        data = self._out.read(int(size))
        self._out.read(1)  # the newline after the content
        return data

    def checkpoint(self) -> None:
        """Write what was imported so far (pack, refs) and wait until it is on disk."""
        self._write(b"checkpoint\nprogress checkpoint\n\n")
        self._flush()
        while self._readline() != b"progress checkpoint\n":
            pass

    def finish(self) -> None:
        self._write(b"done\n")
        self._flush()


@contextmanager
def fast_import(git_dir: Path, *, active_branches: int = 64) -> Iterator[FastImport]:
    """A fast-import session; refs are updated at each checkpoint and at the end.

    ``--done``: an input that ends without the final ``done`` (the importer was killed) makes
    fast-import fail instead of updating refs to a half-written history. ``--force``: a branch
    deleted and created again in Subversion starts a history that does not contain the old.
    """
    argv = [
        "git",
        f"--git-dir={git_dir}",
        "fast-import",
        "--quiet",
        "--done",
        "--force",
        f"--active-branches={active_branches}",
    ]
    with runner.stream(argv, write=True, read=True, what="git fast-import") as proc:
        assert proc.stdin is not None  # noqa: S101 - write=True and read=True pipe both
        assert proc.stdout is not None  # noqa: S101
        session = FastImport(proc.stdin, proc.stdout)
        yield session
        session.finish()
