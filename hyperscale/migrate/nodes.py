"""Applying a dump's node records (add, change, delete, replace; files and directories) to
the tree of the revision being converted; file texts go to git fast-import as blobs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.migrate import tree
from hyperscale.migrate.svndiff import apply_delta
from hyperscale.migrate.tree import Dir, FileNode

if TYPE_CHECKING:
    from hyperscale.clients.git import FastImport
    from hyperscale.migrate.dump import NodeRecord
    from hyperscale.migrate.tree import Entry

#: What Subversion stores as the text of a symlink, before its target.
_LINK = b"link "


@dataclass
class PendingRevision:
    """A revision while its nodes are applied: its tree and what it touched."""

    number: int
    author: str
    when: int
    message: str
    tree: tree.Revision
    changed: set[str] = field(default_factory=set)
    #: add/replace/delete: path -> (copy source path, revision) or None.
    structural: dict[str, tuple[str, int] | None] = field(default_factory=dict)


class NodeApplier:
    def __init__(
        self,
        importer: FastImport,
        roots: dict[int, Dir],
        first_rev: Callable[[], int | None],
    ) -> None:
        self.fi = importer
        self.roots = roots
        self._first_rev = first_rev

    def root_at(self, rev: int, current: int) -> Dir:
        root = self.roots.get(rev)
        if root is None:
            raise UsageError(
                f"r{current} copies from r{rev}, before the first converted revision"
                f" r{self._first_rev()}",
                hint=f"convert from r{rev} or earlier (--revisions {rev}:HEAD into a new DEST)",
            )
        return root

    def apply(self, rev: PendingRevision, node: NodeRecord) -> None:
        path = node.path
        rev.changed.add(path)
        if node.action in ("delete", "replace"):
            rev.tree.delete(path)
            rev.structural[path] = None
            if node.action == "delete":
                return
        base: Entry | None = None
        if node.action in ("add", "replace"):
            if node.copyfrom_path is not None and node.copyfrom_rev is not None:
                source = self.root_at(node.copyfrom_rev, rev.number)
                base = tree.lookup(source, node.copyfrom_path)
                if base is None:
                    raise ExternalSystemError(
                        f"r{rev.number} copies {node.copyfrom_path}@{node.copyfrom_rev},"
                        " which the dump never created"
                    )
                rev.structural[path] = (node.copyfrom_path, node.copyfrom_rev)
            else:
                rev.structural[path] = None
        else:
            base = rev.tree.get(path)
            if base is None:
                raise ExternalSystemError(f"r{rev.number} changes {path}, which does not exist")
        kind = node.kind or ("dir" if isinstance(base, Dir) else "file")
        if kind == "dir":
            self._apply_dir(rev, node, base)
        else:
            rev.tree.put(path, self._file(node, base if isinstance(base, FileNode) else None))

    def _apply_dir(self, rev: PendingRevision, node: NodeRecord, base: Entry | None) -> None:
        if node.action != "change":
            rev.tree.put(node.path, base if isinstance(base, Dir) else Dir(owner=rev.number))
        if node.props is None:
            return
        directory = rev.tree.writable_dir(node.path)
        ignore = _prop(node, "svn:ignore", directory.ignore)
        global_ignores = _prop(node, "svn:global-ignores", directory.global_ignores)
        directory.with_ignores(ignore, global_ignores)

    def _file(self, node: NodeRecord, base: FileNode | None) -> FileNode:
        was_special = base.special if base else False
        executable = _prop(node, "svn:executable", "*" if base and base.executable else None)
        special = _prop(node, "svn:special", "*" if was_special else None) is not None
        if node.text_length is None:
            if base is None:
                return FileNode(self.fi.blob(b""), executable is not None, special)
            blob = base.blob
            if special != was_special:  # the same text, read the other way round
                data = self.fi.cat_blob(blob)
                blob = self.fi.blob(data.removeprefix(_LINK) if special else _LINK + data)
            return FileNode(blob, executable is not None, special)
        if node.text_delta:
            source = b""
            if base is not None:
                source = self.fi.cat_blob(base.blob)
                source = _LINK + source if was_special else source
            text = apply_delta(source, node.text())
            if node.text_md5 and hashlib.md5(text, usedforsecurity=False).hexdigest() != (
                node.text_md5
            ):
                raise ExternalSystemError(f"{node.path}: the text rebuilt from its delta is wrong")
            blob = self.fi.blob(text.removeprefix(_LINK) if special else text)
        elif special:
            blob = self.fi.blob(node.text().removeprefix(_LINK))
        else:
            blob = self.fi.blob_from_chunks(node.text_length, node.text_chunks())
        return FileNode(blob, executable is not None, special)


def _prop(node: NodeRecord, name: str, current: str | None) -> str | None:
    """A property's value after this node record: full lists replace, deltas amend."""
    if node.props is None:
        return current
    if node.prop_delta:
        return node.props.get(name, current)
    return node.props.get(name)
