"""Subversion revisions to Git commits: each revision of the dump is applied to the tree
model, then every branch or tag it touched gets one commit of what changed in its Git view,
written to git fast-import. Tags are lines of commits too; their annotated tags are written
at the end of a run. Copies of a whole branch or tag start a Git history from the copy's
source commit, so branches and tags share their history with trunk.
"""

from __future__ import annotations

import bisect
import datetime as dt
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hyperscale.clients.git import FastImport, Signature
from hyperscale.errors import ExternalSystemError
from hyperscale.migrate import tree
from hyperscale.migrate.authors import NO_AUTHOR, AuthorMap
from hyperscale.migrate.dump import NodeRecord, RevisionRecord
from hyperscale.migrate.layout import BRANCH, TAG, TRUNK_BRANCH, Layout, RefRoot, git_name
from hyperscale.migrate.nodes import NodeApplier, PendingRevision
from hyperscale.migrate.state import HeadEvent, RefState, State
from hyperscale.migrate.tree import Dir

if TYPE_CHECKING:
    from hyperscale.migrate.tree import Entry

TAG_LINES = "refs/svn/tag-lines/"
DELETED = "refs/svn/deleted/"


class Stop(Exception):  # noqa: N818 - a signal to stop, not an error
    """Raised at a revision boundary, after a checkpoint, when the run was asked to stop."""


@dataclass
class Counts:
    revisions: int = 0
    commits: int = 0
    outside_layout: set[str] = field(default_factory=set)


def ref_name(ref: RefState) -> str:
    return f"refs/heads/{ref.git_name}" if ref.kind == BRANCH else TAG_LINES + ref.git_name


class Converter:
    def __init__(
        self,
        state: State,
        importer: FastImport,
        layout: Layout,
        authors: AuthorMap,
        *,
        uuid: str,
        empty_dirs: bool,
        checkpoint_every: int,
        checkpoint_seconds: float = 30.0,
    ) -> None:
        self.state = state
        self.fi = importer
        self.layout = layout
        self.authors = authors
        self.uuid = uuid
        self.empty_dirs = empty_dirs
        self.checkpoint_every = checkpoint_every
        self.checkpoint_seconds = checkpoint_seconds
        self.roots: dict[int, Dir] = state.roots()
        self.refs: dict[str, RefState] = state.refs()
        self.history: dict[str, list[HeadEvent]] = state.heads()
        self.counts = Counts()
        self.nodes = NodeApplier(importer, self.roots, lambda: self._first_rev)
        self.last_rev: int | None = state.get("last_rev")
        self._first_rev: int | None = state.get("first_rev")
        self._mark = 0
        self._last_when = 0
        self._generated: dict[bytes, str] = {}
        self._new_roots: dict[int, Dir] = {}
        self._new_events: list[tuple[str, HeadEvent]] = []
        self._changed_refs: set[str] = set()
        self._since_checkpoint = 0
        self._checkpoint_at = time.monotonic()

    # -- the run --------------------------------------------------------------------------

    def run(
        self,
        stream: Iterable[RevisionRecord | NodeRecord],
        progress: Callable[[int], None],
        should_stop: Callable[[], bool],
    ) -> None:
        current: PendingRevision | None = None
        for record in stream:
            if isinstance(record, RevisionRecord):
                if current is not None:
                    self._finish(current, progress, should_stop)
                current = self._begin(record)
            elif current is None:
                raise ExternalSystemError("the dump stream has a node before any revision")
            else:
                self.nodes.apply(current, record)
        if current is not None:
            self._finish(current, progress, lambda: False)

    def _begin(self, record: RevisionRecord) -> PendingRevision:
        number = record.number
        if self._first_rev is None:
            self._first_rev = number
        base = self.roots.get(number - 1) or Dir(owner=-1)
        props = record.props
        # A revision without a date (rare: hand-edited revision properties) takes the last.
        self._last_when = _timestamp(props.get("svn:date")) or self._last_when
        return PendingRevision(
            number=number,
            author=props.get("svn:author") or NO_AUTHOR,
            when=self._last_when,
            message=props.get("svn:log", ""),
            tree=tree.Revision(base, number),
        )

    def _finish(
        self, rev: PendingRevision, progress: Callable[[int], None], should_stop: Callable[[], bool]
    ) -> None:
        old_root = self.roots.get(rev.number - 1) or Dir(owner=-1)
        new_root = rev.tree.root
        self.roots[rev.number] = new_root
        self._new_roots[rev.number] = new_root
        for root in self._affected(rev, old_root, new_root):
            self._convert_ref(root, rev, old_root, new_root)
        self.last_rev = rev.number
        self.counts.revisions += 1
        self._since_checkpoint += 1
        progress(rev.number)
        stop = should_stop()
        due = self._since_checkpoint >= self.checkpoint_every or (
            time.monotonic() - self._checkpoint_at >= self.checkpoint_seconds
        )
        if stop or due:
            self.checkpoint()
        if stop:
            raise Stop

    # -- branches and tags ----------------------------------------------------------------

    def _ref_roots(self, root: Dir) -> list[RefRoot]:
        found = []
        if self.layout.trunk and isinstance(tree.lookup(root, self.layout.trunk), Dir):
            found.append(RefRoot(self.layout.trunk, BRANCH, "trunk"))
        for container, kind in ((self.layout.branches, BRANCH), (self.layout.tags, TAG)):
            holder = tree.lookup(root, container) if container else None
            if isinstance(holder, Dir):
                found += [RefRoot(f"{container}/{name}", kind, name) for name in holder.entries]
        return found

    def _affected(self, rev: PendingRevision, old_root: Dir, new_root: Dir) -> list[RefRoot]:
        affected: dict[str, RefRoot] = {}
        for path in rev.changed:
            root = self.layout.ref_root(path)
            if root is not None:
                affected[root.path] = root
            elif self.layout.covers(path):
                if path in rev.structural:  # a layout directory itself added, moved or deleted
                    for candidate in self._ref_roots(old_root) + self._ref_roots(new_root):
                        if path == "" or candidate.path.startswith(path + "/"):
                            affected[candidate.path] = candidate
            elif self.layout.inside_prefix(path):
                self.counts.outside_layout.add("/".join(path.split("/")[:2]))
        return [affected[p] for p in sorted(affected)]

    def _origin(self, path: str, rev: PendingRevision) -> tuple[str, tuple[str, int] | None] | None:
        """The add or replace in this revision that (re)created ``path``: itself or the
        nearest ancestor, with its copy source."""
        probe = path
        while True:
            if probe in rev.structural:
                return probe, rev.structural[probe]
            if not probe:
                return None
            probe = probe.rpartition("/")[0]

    def _head_at(self, path: str, rev: int) -> str | None:
        events = self.history.get(path, [])
        index = bisect.bisect_right([e.rev for e in events], rev)
        return events[index - 1].sha if index else None

    def _name_for(self, root: RefRoot) -> str:
        wanted = TRUNK_BRANCH if root.path == self.layout.trunk else git_name(root.svn_name)
        taken = {
            r.git_name for r in self.refs.values() if r.kind == root.kind and r.path != root.path
        }
        name, n = wanted, 2
        while name in taken:
            name, n = f"{wanted}-{n}", n + 1
        return name

    def _convert_ref(
        self, root: RefRoot, rev: PendingRevision, old_root: Dir, new_root: Dir
    ) -> None:
        node = tree.lookup(new_root, root.path)
        ref = self.refs.get(root.path)
        origin = self._origin(root.path, rev)
        if ref is not None and ref.live and (origin is not None or not isinstance(node, Dir)):
            self._retire(ref, rev.number)
        if not isinstance(node, Dir):
            return
        if ref is None:
            ref = self.refs[root.path] = RefState(root.path, root.kind, self._name_for(root), None)
        parent, base = ref.head if ref.live else None, tree.lookup(old_root, root.path)
        if origin is not None:
            parent, base = self._copy_parent(root.path, origin, rev.number)
        changes = list(
            tree.changes(
                base if isinstance(base, Dir) else None,
                node,
                self._store,
                empty_dirs=self.empty_dirs,
            )
        )
        identity = self.authors.identity(rev.author)
        author = Signature(identity.name, identity.email, rev.when)
        if root.kind == TAG and parent is not None and not changes:
            head, committed = parent, False  # a plain copy: the tag names its source commit
        else:
            self._mark += 1
            self.fi.commit(
                ref_name(ref),
                mark=self._mark,
                author=author,
                message=self.message(rev.message, root.path, rev.number),
                parent=parent,
                changes=changes,
            )
            head, committed = f":{self._mark}", True
            self.counts.commits += 1
        ref.head, ref.live, ref.rev, ref.message = head, True, rev.number, rev.message
        ref.tagger_name, ref.tagger_email, ref.tagger_when = author.name, author.email, author.when
        self._event(root.path, HeadEvent(rev.number, head, committed))

    def _copy_parent(
        self, path: str, origin: tuple[str, tuple[str, int] | None], current: int
    ) -> tuple[str | None, Entry | None]:
        origin_path, copy = origin
        if copy is None:
            return None, None
        source_path = copy[0] + path[len(origin_path) :]
        source = tree.lookup(self.nodes.root_at(copy[1], current), source_path)
        source_root = self.layout.ref_root(source_path)
        if source_root is None or source_root.path != source_path:
            return None, None  # a copy of part of a branch: a new history with those files
        head = self._head_at(source_path, copy[1])
        return (head, source) if head is not None else (None, None)

    def _retire(self, ref: RefState, rev: int) -> None:
        """A branch or tag deleted (or replaced): its history stays under refs/svn/deleted."""
        if ref.head is not None:
            kind = "branches" if ref.kind == BRANCH else "tags"
            self.fi.reset(f"{DELETED}{kind}/{ref.git_name}@{rev}", ref.head)
        self.fi.reset(ref_name(ref), None)
        ref.live, ref.head = False, None
        self._event(ref.path, HeadEvent(rev, None, False))

    def _event(self, path: str, event: HeadEvent) -> None:
        events = self.history.setdefault(path, [])
        if events and events[-1].rev == event.rev:
            events.pop()
        events.append(event)
        self._new_events.append((path, event))
        self._changed_refs.add(path)

    def _store(self, data: bytes) -> str:
        sha = self._generated.get(data)
        if sha is None:
            sha = self._generated[data] = self.fi.blob(data)
        return sha

    def message(self, log: str, path: str, rev: int) -> str:
        trailer = f"SVN-Id: /{path}@{rev} {self.uuid}\n"
        log = log.replace("\r\n", "\n").rstrip()
        return f"{log}\n\n{trailer}" if log else trailer

    # -- checkpoints and the end of a run -------------------------------------------------

    def write_tags(self) -> None:
        for ref in sorted(self.refs.values(), key=lambda r: r.path):
            if ref.kind == TAG and ref.live and ref.head is not None:
                tagger = Signature(ref.tagger_name, ref.tagger_email, ref.tagger_when)
                message = self.message(ref.message, ref.path, ref.rev)
                self.fi.tag(ref.git_name, ref.head, tagger, message)

    def checkpoint(self) -> None:
        """Put everything so far on disk (fast-import first, then the state): the point a
        killed run is resumed from."""
        self.fi.checkpoint()
        marks = sorted({int(e.sha[1:]) for _, e in self._new_events if e.sha and e.sha[0] == ":"})
        shas = {f":{m}": sha for m, sha in self.fi.marks(marks).items()}

        def resolved(event: HeadEvent) -> HeadEvent:
            if event.sha is None or event.sha[0] != ":":
                return event
            return HeadEvent(event.rev, shas[event.sha], event.committed)

        for path in self._changed_refs:
            self.history[path] = [resolved(e) for e in self.history[path]]
            ref = self.refs[path]
            if ref.head is not None and ref.head[0] == ":":
                ref.head = shas[ref.head]
        with self.state.transaction():
            self.state.save_roots(self._new_roots)
            self.state.save_heads([(p, resolved(e)) for p, e in self._new_events])
            self.state.save_refs([self.refs[p] for p in sorted(self._changed_refs)])
            self.state.put("last_rev", self.last_rev)
            self.state.put("first_rev", self._first_rev)
        self._new_roots.clear()
        self._new_events.clear()
        self._changed_refs.clear()
        self._since_checkpoint = 0
        self._checkpoint_at = time.monotonic()


def _timestamp(value: str | None) -> int | None:
    if not value:
        return None
    parsed = dt.datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())
