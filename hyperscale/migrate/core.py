"""`hyperscale migrate svn`: Subversion to Git, checked before anything is pushed.

The engine: ``svnadmin dump`` (``svnrdump dump`` for a remote URL) read by our own parser
into ``git fast-import``, about 10x faster than ``git svn clone`` on a branchy repository
(docs/benchmarks.md); then every branch and tag compared with ``svn export``.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperscale.clients import git, svn
from hyperscale.errors import HyperscaleError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.migrate import verify as verification
from hyperscale.migrate.authors import (
    NO_AUTHOR,
    AuthorMap,
    parse_authors_file,
    write_authors_file,
)
from hyperscale.migrate.convert import TAG_LINES, Converter, Stop
from hyperscale.migrate.dump import records
from hyperscale.migrate.layout import BRANCH, TRUNK_BRANCH, Layout
from hyperscale.migrate.results import (
    AuthorCount,
    AuthorsResult,
    ConvertedRef,
    MigrationResult,
    Verification,
)
from hyperscale.migrate.state import FORMAT, State

#: (phase, done, total): phase is "convert" (revisions) or "verify" (trees).
Progress = Callable[[str, int, int], None]
VERIFY_MODES = ("full", "sample", "none")
SAMPLE_SIZE = 12


class MigrationInterruptedError(HyperscaleError):
    exit_code = ExitCode.INTERRUPTED
    code = "interrupted"


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


@contextlib.contextmanager
def stop_requests() -> Iterator[Callable[[], bool]]:
    """Ctrl-C (or SIGTERM) asks the conversion to stop at the next revision boundary, after a
    checkpoint; a second Ctrl-C stops at once. Outside the main thread: no handler."""
    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked.is_set
        return

    def handler(signum: int, _frame: Any) -> None:
        if asked.is_set():
            raise KeyboardInterrupt
        asked.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield asked.is_set
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _prepare_dest(dest: Path) -> None:
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"DEST {dest} is a file", hint="give a directory for the Git repository")
    if not dest.exists() or not any(dest.iterdir()):
        git.init_bare(dest, TRUNK_BRANCH)
        return
    if not git.is_repository(dest) or not (dest / "hyperscale-svn").is_dir():
        raise UsageError(
            f"DEST {dest} is not empty and holds no migration made by hyperscale",
            hint="give a new or empty directory",
        )


def _check_state(state: State, request: MigrationRequest, info: svn.RepositoryInfo) -> Layout:
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
    if asked and stored != layout:
        raise UsageError(
            f"{request.dest} was migrated with another layout ({_layout_text(stored)})",
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


def _layout_text(layout: Layout) -> str:
    parts = [f"{k} /{v}" for k, v in layout.to_data().items() if v and k != "prefix"]
    return ", ".join(parts)


def _check_layout(layout: Layout, info: svn.RepositoryInfo, request: MigrationRequest) -> None:
    """Before the first run: the layout's directories exist at the last revision."""
    paths = layout.containers()
    present = []
    for path in paths:
        parent, _, name = path.rpartition("/")
        names = svn.list_names(f"{info.root_url}/{parent}".rstrip("/"), info.head)
        if names is not None and name in names:
            present.append(path)
    custom = bool(request.trunk or request.branches or request.tags)
    missing = [p for p in paths if p not in present]
    if (custom and missing) or not present:
        top = svn.list_names(info.url, info.head) or set()
        raise UsageError(
            f"bad layout: {', '.join('/' + p for p in missing)} not in {info.root_url}"
            f" at r{info.head}",
            hint=f"the URL holds {', '.join(sorted(top)) or 'nothing'};"
            " give --trunk/--branches/--tags relative to it",
        )


def _authors(
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


def migrate(request: MigrationRequest, progress: Progress) -> MigrationResult:
    if request.verify not in VERIFY_MODES:
        raise UsageError(f"--verify {request.verify}", hint="use full, sample or none")
    svn.check_url(request.svn_url)
    info = svn.repository_info(request.svn_url)
    _prepare_dest(request.dest)
    state = State(request.dest)
    try:
        return _migrate(request, info, state, progress)
    finally:
        state.close()


def _migrate(
    request: MigrationRequest, info: svn.RepositoryInfo, state: State, progress: Progress
) -> MigrationResult:
    layout = _check_state(state, request, info)
    last = state.get("last_rev")
    resumed = state.get("run") is not None
    first, end = parse_revisions(request.revisions, info.head)
    if last is not None:
        if first > last + 1:
            raise UsageError(
                f"--revisions starts at r{first}, but {request.dest} ends at r{last}",
                hint=f"start at r{last + 1} or earlier: a migration cannot skip revisions",
            )
        first = last + 1
    else:
        _check_layout(layout, info, request)
    authors, defaulted = _authors(request, info, first, end)
    engine = "svnadmin dump" if svn.local_repository(info.root_url) else "svnrdump dump"
    started = time.monotonic()
    commits = 0
    outside: list[str] = []
    if first <= end:
        with state.transaction():
            state.put("format", FORMAT)
            state.put("uuid", info.uuid)
            state.put("layout", layout.to_data())
            state.put("empty_dirs", request.empty_dirs)
            state.put("run", {"end": end})
        commits, outside, stopped = _convert(
            request, info, state, layout, authors, (first, end, last is not None), progress
        )
        _tidy_refs(request.dest, state)
        if stopped:
            raise MigrationInterruptedError(
                f"interrupted after r{state.get('last_rev')} of r{end};"
                " what was converted is saved",
                hint="continue with --resume",
            )
        state.put("run", None)
    convert_seconds = time.monotonic() - started
    refs = _converted_refs(request.dest, state)
    checked = _verify(request, info, state, refs, progress)
    pushed = None
    if request.push and checked.passed:
        git.push(
            request.dest, request.push, ["refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*"]
        )
        pushed = request.push
    done = state.get("last_rev") or 0
    return MigrationResult(
        svn_url=info.url,
        dest=str(request.dest),
        engine=f"{engine} | git fast-import",
        first=first if first <= end else None,
        last=end if first <= end else None,
        converted_to=done,
        head=info.head,
        commits=commits,
        resumed=resumed,
        refs=refs,
        outside_layout=outside,
        defaulted_authors=defaulted,
        verification=checked,
        pushed_to=pushed,
        convert_seconds=convert_seconds,
    )


def _convert(
    request: MigrationRequest,
    info: svn.RepositoryInfo,
    state: State,
    layout: Layout,
    authors: AuthorMap,
    span: tuple[int, int, bool],
    progress: Progress,
) -> tuple[int, list[str], bool]:
    first, end, incremental = span
    stopped = False
    with git.fast_import(request.dest) as importer:
        converter = Converter(
            state,
            importer,
            layout,
            authors,
            uuid=info.uuid,
            empty_dirs=request.empty_dirs,
            checkpoint_every=request.checkpoint_every,
        )
        total = end - first + 1
        with stop_requests() as should_stop:
            try:
                with svn.dump(info.root_url, first, end, incremental=incremental) as stream:
                    converter.run(
                        records(stream),
                        lambda rev: progress("convert", rev - first + 1, total),
                        should_stop,
                    )
            except Stop:
                stopped = True
        converter.write_tags()
        converter.checkpoint()
    return converter.counts.commits, sorted(converter.counts.outside_layout)[:20], stopped


def _tidy_refs(dest: Path, state: State) -> None:
    """After fast-import: drop the working refs of tag lines and the tags Subversion deleted
    (tags Git has that the migration never made are left alone)."""
    tags = state.refs().values()
    live = {r.git_name for r in tags if r.kind != BRANCH and r.live}
    dead = {f"refs/tags/{r.git_name}" for r in tags if r.kind != BRANCH and not r.live}
    existing = git.refs(dest, "refs/tags", TAG_LINES.rstrip("/"))
    doomed = [
        name
        for name in existing
        if name.startswith(TAG_LINES)
        or (name in dead and name.removeprefix("refs/tags/") not in live)
    ]
    git.delete_refs(dest, doomed)
    git.gc_auto(dest)


def _converted_refs(dest: Path, state: State) -> list[ConvertedRef]:
    present = git.refs(dest, "refs/heads", "refs/tags")
    found = []
    for ref in sorted(state.refs().values(), key=lambda r: (r.kind, r.git_name)):
        if not ref.live:
            continue
        name = f"refs/{'heads' if ref.kind == BRANCH else 'tags'}/{ref.git_name}"
        git_ref = present.get(name)
        found.append(
            ConvertedRef(
                ref.kind,
                ref.git_name,
                ref.path,
                git_ref.object if git_ref else "",
                git_ref.commit if git_ref else "",
            )
        )
    return found


def _verify(
    request: MigrationRequest,
    info: svn.RepositoryInfo,
    state: State,
    refs: list[ConvertedRef],
    progress: Progress,
) -> Verification:
    if request.verify == "none":
        return Verification("none")
    started = time.monotonic()
    end = state.get("last_rev") or 0
    expected = {f"refs/{'heads' if r.kind == BRANCH else 'tags'}/{r.name}" for r in refs}
    present = git.refs(request.dest, "refs/heads", "refs/tags")
    extra = [
        verification.Difference(name, "", "in git, not in svn")
        for name in sorted(present.keys() - expected)
    ]
    if request.verify == "full":
        targets = [
            verification.Target(f"{r.kind} {r.name}", r.svn_path, end, r.commit or None)
            for r in refs
        ]
    else:
        commits = state.commits()
        step = max(1, len(commits) // SAMPLE_SIZE)
        picked = commits[::-1][::step][:SAMPLE_SIZE]
        names = {r.path: r.git_name for r in state.refs().values()}
        targets = [
            verification.Target(f"r{rev} {names.get(path, path)}", path, rev, sha)
            for rev, path, sha in sorted(picked)
        ]
    checked = verification.verify(
        request.dest,
        info.root_url,
        targets,
        empty_dirs=request.empty_dirs,
        progress=lambda done, total: progress("verify", done, total),
    )
    return Verification(request.verify, checked, extra, time.monotonic() - started)


def authors(svn_url: str, file: Path) -> AuthorsResult:
    """Every committer of the URL, written to ``file`` for the team to map."""
    svn.check_url(svn_url)
    info = svn.repository_info(svn_url)
    entries = svn.log_authors(info.url, 1, info.head) if info.head else []
    seen: dict[str, list[str]] = {}
    for entry in entries:
        seen.setdefault(entry.author or NO_AUTHOR, []).append(entry.date)
    added = write_authors_file(file, {user: len(dates) for user, dates in seen.items()})
    known = parse_authors_file(file)
    return AuthorsResult(
        svn_url=info.url,
        file=str(file),
        authors=[
            AuthorCount(user, len(dates), min(dates), max(dates), known.get(user) is not None)
            for user, dates in sorted(seen.items())
        ],
        added=added,
    )
