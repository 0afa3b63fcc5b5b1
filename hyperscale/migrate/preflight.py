"""Before a migration converts anything: the request, the revisions it covers, the DEST it
writes, the layout, and the authors; each problem is one usage error the user can fix."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from hyperscale.clients import git, svn
from hyperscale.errors import UsageError
from hyperscale.migrate.authors import NO_AUTHOR, AuthorMap, parse_authors_file
from hyperscale.migrate.layout import TRUNK_BRANCH, Layout
from hyperscale.migrate.state import STATE_DIR, State


@dataclass(frozen=True)
class MigrationRequest:
    svn_url: str
    dest: Path
    authors_file: Path | None = None
    default_domain: str | None = None
    stdlayout: bool = False
    trunk: str | None = None
    branches: str | None = None
    tags: str | None = None
    revisions: str | None = None
    push: str | None = None
    resume: bool = False
    verify: str = "full"
    empty_dirs: bool = False
    #: A checkpoint (what a killed run resumes from) at least every this many revisions.
    checkpoint_every: int = 1000


def parse_revisions(text: str | None, head: int) -> tuple[int, int]:
    if not text:
        return 0, head
    start, sep, end = text.partition(":")
    try:
        first = int(start)
        last = head if not sep or end.upper() == "HEAD" else int(end)
    except ValueError:
        raise UsageError(
            f"--revisions {text}: expected A:B (numbers, B may be HEAD)", hint="e.g. 1:HEAD"
        ) from None
    if first < 0 or last < first:
        raise UsageError(f"--revisions {text}: the range is empty or negative")
    return first, min(last, head)


def prepare_dest(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"DEST {dest} is a file", hint="give a directory for the Git repository")
    if not dest.exists() or not any(dest.iterdir()):
        git.init_bare(dest, TRUNK_BRANCH)
        return
    if not git.is_repository(dest) or not (dest / STATE_DIR).is_dir():
        raise UsageError(
            f"DEST {dest} is not empty and holds no migration made by hyperscale",
            hint="give a new or empty directory",
        )


def check_state(state: State, request: MigrationRequest, info: svn.RepositoryInfo) -> Layout:
    """The layout to use; refuses a DEST made from another repository or another layout,
    and an interrupted one without --resume."""
    asked = bool(request.stdlayout or request.trunk or request.branches or request.tags)
    layout = Layout.from_options(
        info.path,
        stdlayout=request.stdlayout,
        trunk=request.trunk,
        branches=request.branches,
        tags=request.tags,
    )
    if not state.started:
        if request.resume:
            raise UsageError(f"{request.dest} has no migration to resume", hint="drop --resume")
        return layout
    if state.get("uuid") != info.uuid:
        raise UsageError(
            f"{request.dest} was migrated from another Subversion repository"
            f" (uuid {state.get('uuid')}, this one is {info.uuid})",
            hint="give the DEST of this repository, or a new one",
        )
    stored = Layout(**state.get("layout"))
    if stored.prefix != info.path:
        raise UsageError(
            f"{request.dest} was migrated from /{stored.prefix} of this repository,"
            f" not /{info.path}",
            hint="give the URL it was made from, or a new DEST",
        )
    if asked and stored != layout:
        raise UsageError(
            f"{request.dest} was migrated with another layout ({layout_text(stored)})",
            hint="rerun with the same --trunk/--branches/--tags, or none",
        )
    if state.get("empty_dirs") != request.empty_dirs:
        raise UsageError(
            f"{request.dest} was migrated {'with' if state.get('empty_dirs') else 'without'}"
            " --empty-dirs",
            hint="rerun with the same option",
        )
    run = state.get("run")
    if run is not None and not request.resume:
        raise UsageError(
            f"{request.dest} holds an interrupted migration (converted up to"
            f" r{state.get('last_rev') or 0} of r{run['end']})",
            hint="continue it with --resume",
        )
    return stored


def layout_text(layout: Layout) -> str:
    parts = [f"{k} /{v}" for k, v in layout.to_data().items() if v and k != "prefix"]
    return ", ".join(parts)


def check_layout(
    layout: Layout, info: svn.RepositoryInfo, request: MigrationRequest, end: int
) -> None:
    """Before the first run: the layout's directories exist at the last revision converted
    (every one given with --trunk/--branches/--tags; at least one of the standard ones)."""
    paths = layout.containers()
    present = []
    for path in paths:
        parent, _, name = path.rpartition("/")
        parent_url = f"{info.root_url}/{urllib.parse.quote(parent)}".rstrip("/")
        names = svn.list_names(parent_url, end)
        if names is not None and name in names:
            present.append(path)
    custom = bool(request.trunk or request.branches or request.tags)
    missing = [p for p in paths if p not in present]
    if (custom and missing) or not present:
        top = svn.list_names(info.url, end) or set()
        raise UsageError(
            f"bad layout: {', '.join('/' + p for p in missing)} not in {info.root_url} at r{end}",
            hint=f"the URL holds {', '.join(sorted(top)) or 'nothing'};"
            " give --trunk/--branches/--tags relative to it",
        )


def check_authors(
    request: MigrationRequest, info: svn.RepositoryInfo, start: int, end: int
) -> tuple[AuthorMap, list[str]]:
    known = parse_authors_file(request.authors_file) if request.authors_file else {}
    source = str(request.authors_file) if request.authors_file else "an authors file (none given)"
    authors = AuthorMap(known, request.default_domain, source)
    users = set()
    if end >= max(start, 1):
        entries = svn.log_authors(info.url, max(start, 1), end)
        users = {e.author or NO_AUTHOR for e in entries if e.revision > 0}
    return authors, authors.check(users)
