"""What a migration remembers between runs, kept in the Git repository it writes
(``DEST/hyperscale-svn/state.sqlite``): the last revision converted, the tree of every
revision, each branch's and tag's history of heads, and the options it was made with.

It is written in one SQLite transaction at each checkpoint, after git fast-import has put
the same history on disk, so a run killed at any moment leaves the state of the last
checkpoint: the next run redoes the revisions after it, producing the same objects.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from hyperscale.errors import UsageError
from hyperscale.migrate.tree import Dir, Entry, FileNode

FORMAT = "1"
STATE_DIR = "hyperscale-svn"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dirs (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS roots (rev INTEGER PRIMARY KEY, dir INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS heads (
  path TEXT NOT NULL, rev INTEGER NOT NULL, sha TEXT, committed INTEGER NOT NULL,
  PRIMARY KEY (path, rev)
);
CREATE TABLE IF NOT EXISTS refs (path TEXT PRIMARY KEY, body TEXT NOT NULL);
"""


@dataclass
class RefState:
    """A branch or tag as the conversion left it."""

    path: str
    kind: str
    git_name: str
    #: The commit the ref points at (":mark" until the next checkpoint resolves it).
    head: str | None
    live: bool = True
    #: The revision that last changed a tag, and who made it: the annotated tag's tagger.
    rev: int = 0
    tagger_name: str = ""
    tagger_email: str = ""
    tagger_when: int = 0
    message: str = ""


@dataclass(frozen=True)
class HeadEvent:
    rev: int
    #: None: the ref was deleted at ``rev``.
    sha: str | None
    #: A commit was made at ``rev`` (not only a head taken over from a copy source).
    committed: bool


class State:
    def __init__(self, git_dir: Path) -> None:
        self.directory = git_dir / STATE_DIR
        self.directory.mkdir(exist_ok=True)
        self._lock = (self.directory / "lock").open("w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            self._lock.close()
            raise UsageError(
                f"another migration into {git_dir} is running",
                hint="wait for it to finish (or stop it, then rerun with --resume)",
            ) from exc
        self.db = sqlite3.connect(self.directory / "state.sqlite", isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.executescript(_SCHEMA)
        self._dirs: dict[int, Dir] = {}

    def close(self) -> None:
        self.db.close()
        self._lock.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- meta -----------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, value: Any) -> None:
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, json.dumps(value)))

    @property
    def started(self) -> bool:
        return self.get("format") is not None

    # -- trees ----------------------------------------------------------------------------

    def load_dir(self, dir_id: int) -> tuple[dict[str, Entry], str | None, str | None]:
        row = self.db.execute("SELECT body FROM dirs WHERE id = ?", (dir_id,)).fetchone()
        if row is None:
            raise UsageError(
                f"the migration state in {self.directory} is damaged (directory {dir_id})",
                hint="convert again into a new DEST",
            )
        body = json.loads(row[0])
        entries: dict[str, Entry] = {}
        for name, value in body["e"].items():
            if isinstance(value, int):
                entries[name] = self.dir_stub(value)
            else:
                blob, flags = value
                entries[name] = FileNode(blob, "x" in flags, "l" in flags)
        return entries, body.get("i"), body.get("g")

    def dir_stub(self, dir_id: int) -> Dir:
        found = self._dirs.get(dir_id)
        if found is None:
            found = self._dirs[dir_id] = Dir(None, dir_id=dir_id, loader=self)
        return found

    def _save_dirs(self, root: Dir) -> int:
        """Store every directory of ``root`` not stored yet (children first); root's id."""
        next_id = int(self.get("next_dir") or 1)
        stack: list[tuple[Dir, bool]] = [(root, False)]
        rows = []
        while stack:
            node, children_done = stack.pop()
            if node.id is not None:
                continue
            if not children_done:
                stack.append((node, True))
                stack.extend(
                    (c, False) for c in node.entries.values() if isinstance(c, Dir) and c.id is None
                )
                continue
            body: dict[str, Any] = {"e": {}}
            for name, entry in node.entries.items():
                if isinstance(entry, Dir):
                    body["e"][name] = entry.id
                else:
                    flags = ("x" if entry.executable else "") + ("l" if entry.special else "")
                    body["e"][name] = [entry.blob, flags]
            if node.ignore:
                body["i"] = node.ignore
            if node.global_ignores:
                body["g"] = node.global_ignores
            node.id = next_id
            self._dirs[next_id] = node
            next_id += 1
            rows.append((node.id, json.dumps(body, separators=(",", ":"))))
        self.db.executemany("INSERT INTO dirs VALUES (?, ?)", rows)
        self.put("next_dir", next_id)
        assert root.id is not None  # noqa: S101 - assigned above or before
        return root.id

    def save_roots(self, roots: dict[int, Dir]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO roots VALUES (?, ?)",
            [(rev, self._save_dirs(root)) for rev, root in sorted(roots.items())],
        )

    def roots(self) -> dict[int, Dir]:
        return {
            rev: self.dir_stub(dir_id)
            for rev, dir_id in self.db.execute("SELECT rev, dir FROM roots ORDER BY rev")
        }

    # -- refs and their history -----------------------------------------------------------

    def save_heads(self, events: list[tuple[str, HeadEvent]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO heads VALUES (?, ?, ?, ?)",
            [(path, e.rev, e.sha, int(e.committed)) for path, e in events],
        )

    def heads(self) -> dict[str, list[HeadEvent]]:
        found: dict[str, list[HeadEvent]] = {}
        for path, rev, sha, committed in self.db.execute(
            "SELECT path, rev, sha, committed FROM heads ORDER BY path, rev"
        ):
            found.setdefault(path, []).append(HeadEvent(rev, sha, bool(committed)))
        return found

    def commits(self) -> list[tuple[int, str, str]]:
        """(revision, Subversion path, commit) of every commit made, oldest first."""
        return list(
            self.db.execute(
                "SELECT rev, path, sha FROM heads WHERE committed = 1 ORDER BY rev, path"
            )
        )

    def save_refs(self, refs: list[RefState]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO refs VALUES (?, ?)",
            [(r.path, json.dumps(asdict(r))) for r in refs],
        )

    def refs(self) -> dict[str, RefState]:
        return {
            path: RefState(**json.loads(body))
            for path, body in self.db.execute("SELECT path, body FROM refs")
        }
