"""`hyperscale migrate svn`: Subversion to Git, checked before anything is pushed.

The engine: ``svnadmin dump`` (``svnrdump dump`` for a remote URL) read by our own parser
into ``git fast-import``, over 20x faster than ``git svn clone`` on a branchy repository
(docs/benchmarks.md); then every branch and tag compared with ``svn export``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from hyperscale.clients import git, svn
from hyperscale.errors import HyperscaleError, UsageError
from hyperscale.exit_codes import ExitCode
from hyperscale.interrupts import stop_requests
from hyperscale.migrate import preflight
from hyperscale.migrate import verify as verification
from hyperscale.migrate.authors import (
    NO_AUTHOR,
    AuthorMap,
    parse_authors_file,
    write_authors_file,
)
from hyperscale.migrate.convert import TAG_LINES, Converter, Stop
from hyperscale.migrate.dump import records
from hyperscale.migrate.layout import BRANCH, Layout
from hyperscale.migrate.results import (
    AuthorCount,
    AuthorsResult,
    ConvertedRef,
    MigrationResult,
    Target,
    Verification,
)
from hyperscale.migrate.state import FORMAT, State

#: (phase, done, total): phase is "convert" (revisions) or "verify" (trees).
Progress = Callable[[str, int, int], None]
VERIFY_MODES = ("full", "sample", "none")
SAMPLE_SIZE = 12

MigrationRequest = preflight.MigrationRequest


class MigrationInterruptedError(HyperscaleError):
    exit_code = ExitCode.INTERRUPTED
    code = "interrupted"


def migrate(request: MigrationRequest, progress: Progress) -> MigrationResult:
    if request.verify not in VERIFY_MODES:
        raise UsageError(f"--verify {request.verify}", hint="use full, sample or none")
    svn.check_url(request.svn_url)
    info = svn.repository_info(request.svn_url)
    preflight.prepare_dest(request.dest)
    state = State(request.dest)
    try:
        return _migrate(request, info, state, progress)
    finally:
        state.close()


def _migrate(
    request: MigrationRequest, info: svn.RepositoryInfo, state: State, progress: Progress
) -> MigrationResult:
    layout = preflight.check_state(state, request, info)
    last = state.get("last_rev")
    resumed = state.get("run") is not None
    first, end = preflight.parse_revisions(request.revisions, info.head)
    if last is not None:
        if first > last + 1:
            raise UsageError(
                f"--revisions starts at r{first}, but {request.dest} ends at r{last}",
                hint=f"start at r{last + 1} or earlier: a migration cannot skip revisions",
            )
        first = last + 1
    else:
        preflight.check_layout(layout, info, request, end)
    authors, defaulted = preflight.check_authors(request, info, first, end)
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
    elif resumed:  # killed after its last checkpoint: only the tidying was left to do
        _tidy_refs(request.dest, state)
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
        with stop_requests() as asked:
            try:
                with svn.dump(info.root_url, first, end, incremental=incremental) as stream:
                    converter.run(
                        records(stream),
                        lambda rev: progress("convert", rev - first + 1, total),
                        asked.is_set,
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
    heads = {r.path: r.head for r in state.refs().values() if r.live}
    ref_differences = verification.check_refs(
        refs, heads, git.refs(request.dest, "refs/heads", "refs/tags")
    )
    end = state.get("last_rev") or 0
    if request.verify == "full":
        targets = [Target(f"{r.kind} {r.name}", r.svn_path, end, r.commit or None) for r in refs]
    else:
        names = {r.path: r.git_name for r in state.refs().values()}
        targets = [
            Target(f"r{rev} {names.get(path, path)}", path, rev, sha)
            for rev, path, sha in verification.sample(state.commits(), SAMPLE_SIZE)
        ]
    checked = verification.verify(
        request.dest,
        info.root_url,
        targets,
        empty_dirs=request.empty_dirs,
        progress=lambda done, total: progress("verify", done, total),
    )
    return Verification(request.verify, checked, ref_differences, time.monotonic() - started)


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
