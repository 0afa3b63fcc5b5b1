"""The Subversion tree of every revision, kept as persistent directories: a revision shares
every directory it did not change with the one before, so all revisions stay in memory (a
copy from any old revision is a lookup) and two trees are compared by skipping what they share.

Also the one definition of the Git view of a directory: files with their modes, plus the
``.gitignore`` made from ``svn:ignore`` / ``svn:global-ignores`` and, optionally, a
``.gitkeep`` in an empty directory. Conversion and verification both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

#: Git modes (hyperscale.clients.git has the same constants; this module stays pure).
FILE, EXECUTABLE, SYMLINK = "100644", "100755", "120000"
GITIGNORE, GITKEEP = ".gitignore", ".gitkeep"
IGNORE_PROPS = ("svn:ignore", "svn:global-ignores")


@dataclass(frozen=True, slots=True)
class FileNode:
    blob: str
    executable: bool = False
    special: bool = False

    @property
    def mode(self) -> str:
        if self.special:
            return SYMLINK
        return EXECUTABLE if self.executable else FILE


class DirLoader(Protocol):
    def load_dir(self, dir_id: int) -> tuple[dict[str, Entry], str | None, str | None]: ...


class Dir:
    """A directory: its entries and the two properties the Git side needs.

    Immutable once its revision is done. While revision ``owner`` is being applied, the
    directories that revision created are changed in place (nobody else sees them yet).
    A directory read back from the state database is a stub until first looked into.
    """

    __slots__ = ("_entries", "_global_ignores", "_ignore", "_loader", "id", "owner")

    def __init__(
        self,
        entries: dict[str, Entry] | None = None,
        ignore: str | None = None,
        global_ignores: str | None = None,
        *,
        owner: int = -1,
        dir_id: int | None = None,
        loader: DirLoader | None = None,
    ) -> None:
        self._entries = entries if entries is not None or loader else {}
        self._ignore = ignore
        self._global_ignores = global_ignores
        self.owner = owner
        self.id = dir_id
        self._loader = loader

    def _load(self) -> dict[str, Entry]:
        if self._entries is None:
            assert self._loader is not None  # noqa: S101 - a stub always has a loader
            assert self.id is not None  # noqa: S101
            self._entries, self._ignore, self._global_ignores = self._loader.load_dir(self.id)
        return self._entries

    @property
    def entries(self) -> dict[str, Entry]:
        return self._load()

    @property
    def ignore(self) -> str | None:
        self._load()
        return self._ignore

    @property
    def global_ignores(self) -> str | None:
        self._load()
        return self._global_ignores

    def with_ignores(self, ignore: str | None, global_ignores: str | None) -> None:
        self._load()
        self._ignore, self._global_ignores = ignore, global_ignores

    def clone(self, owner: int) -> Dir:
        return Dir(dict(self.entries), self.ignore, self.global_ignores, owner=owner)

    def same_as(self, other: Dir) -> bool:
        return self is other or (self.id is not None and self.id == other.id)


Entry = FileNode | Dir


def split(path: str) -> list[str]:
    return [part for part in path.split("/") if part]


def lookup(root: Dir, path: str) -> Entry | None:
    node: Entry = root
    for name in split(path):
        if not isinstance(node, Dir):
            return None
        child = node.entries.get(name)
        if child is None:
            return None
        node = child
    return node


class Revision:
    """The tree while one revision is applied: path-copying writes on top of the last root."""

    def __init__(self, base: Dir, number: int) -> None:
        self.number = number
        self.root = base if base.owner == number else base.clone(number)

    def _writable(self, parts: list[str]) -> Dir:
        """The directory at ``parts``, made this revision's own on the way down."""
        node = self.root
        for name in parts:
            child = node.entries.get(name)
            if not isinstance(child, Dir):
                raise KeyError("/".join(parts))
            if child.owner != self.number:
                child = child.clone(self.number)
                node.entries[name] = child
            node = child
        return node

    def get(self, path: str) -> Entry | None:
        return lookup(self.root, path)

    def put(self, path: str, entry: Entry) -> None:
        *parents, name = split(path)
        self._writable(parents).entries[name] = entry

    def delete(self, path: str) -> None:
        *parents, name = split(path)
        self._writable(parents).entries.pop(name, None)

    def writable_dir(self, path: str) -> Dir:
        return self._writable(split(path))


def gitignore_text(ignore: str | None, global_ignores: str | None) -> bytes:
    """``svn:ignore`` matches names in its own directory (anchored with ``/``);
    ``svn:global-ignores`` is inherited by every directory below (unanchored)."""
    lines = [f"/{_escape(p)}" for p in _patterns(ignore)]
    lines += [_escape(p) for p in _patterns(global_ignores)]
    return "".join(f"{line}\n" for line in lines).encode("utf-8")


def _patterns(value: str | None) -> list[str]:
    """Subversion splits both properties at line ends and keeps everything else."""
    if not value:
        return []
    return [p for p in value.replace("\r", "\n").split("\n") if p.strip()]


def _escape(pattern: str) -> str:
    """Git reads ``#`` and ``!`` at the start, and trailing spaces, as syntax."""
    stripped = pattern.rstrip(" ")
    pattern = stripped + "\\ " * (len(pattern) - len(stripped))
    return "\\" + pattern if pattern[:1] in ("#", "!") else pattern


def wants_gitkeep(has_entries: bool, has_gitignore: bool, empty_dirs: bool) -> bool:
    return empty_dirs and not has_entries and not has_gitignore


# What a directory holds in Git: name -> (mode, blob) for a file, or a Dir.
ViewEntry = tuple[str, str] | Dir
StoreBlob = Callable[[bytes], str]


def git_view(directory: Dir, store: StoreBlob, *, empty_dirs: bool) -> dict[str, ViewEntry]:
    view: dict[str, ViewEntry] = {
        name: entry if isinstance(entry, Dir) else (entry.mode, entry.blob)
        for name, entry in directory.entries.items()
    }
    ignores = gitignore_text(directory.ignore, directory.global_ignores)
    if ignores and GITIGNORE not in view:  # a versioned .gitignore wins
        view[GITIGNORE] = (FILE, store(ignores))
    if wants_gitkeep(bool(directory.entries), bool(ignores), empty_dirs):
        view[GITKEEP] = (FILE, store(b""))
    return view


# ("M", mode, blob, path) or ("D", "", "", path): fast-import's file changes.
Change = tuple[str, str, str, str]


def changes(
    old: Dir | None, new: Dir, store: StoreBlob, *, empty_dirs: bool, prefix: str = ""
) -> Iterator[Change]:
    """What turns the Git view of ``old`` (None: an empty tree) into that of ``new``."""
    if old is not None and old.same_as(new):
        return
    before = git_view(old, store, empty_dirs=empty_dirs) if old is not None else {}
    after = git_view(new, store, empty_dirs=empty_dirs)
    for name in sorted(before.keys() | after.keys()):
        was, now = before.get(name), after.get(name)
        path = prefix + name
        if now is None:
            yield ("D", "", "", path)
            continue
        if isinstance(now, Dir):
            if isinstance(was, Dir):
                yield from changes(was, now, store, empty_dirs=empty_dirs, prefix=path + "/")
                continue
            if was is not None:
                yield ("D", "", "", path)
            yield from changes(None, now, store, empty_dirs=empty_dirs, prefix=path + "/")
            continue
        if was == now:
            continue
        if isinstance(was, Dir):
            yield ("D", "", "", path)
        yield ("M", now[0], now[1], path)
