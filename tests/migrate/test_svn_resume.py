"""Interrupted migrations (SIGKILL, Ctrl-C) resumed, and incremental reruns."""

from __future__ import annotations

import logging
import random
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from hyperscale.context import AppContext
from tests.migrate.builders import RichRepository, copy, git, refs, svn
from tests.migrate.conftest import mapped, migrate, migrate_json, start_migration


@pytest.fixture(scope="module")
def reference(rich: RichRepository, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The refs of an uninterrupted migration of the rich repository."""
    from tests.conftest import invoke  # a module-scoped fixture cannot take isolated_app

    app = AppContext()
    dest = tmp_path_factory.mktemp("reference") / "widget.git"
    assert invoke(app, "migrate", "svn", rich.url, str(dest), *mapped(rich)).exit_code == 0
    return refs(dest)


def checkpoint(dest: Path, *, recover: bool = False) -> tuple[int | None, bool]:
    """(last revision saved, a run is marked in progress) from the migration's state.

    Read-only while the migration runs. After it was killed, ``recover`` opens the database
    writable, as the tool itself does next: a commit whose write-ahead-log frames landed but
    whose shared index was not yet updated is then recovered, where a read-only reader would
    still see the revision before it."""
    database = dest / "hyperscale-svn" / "state.sqlite"
    mode = "rw" if recover else "ro"
    try:
        with sqlite3.connect(f"file:{database}?mode={mode}", uri=True, timeout=0.1) as db:
            rows = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('last_rev', 'run')"))
    except sqlite3.Error:
        return None, False
    last = rows.get("last_rev")
    return (int(last) if last else None), "run" in rows


def interrupt(rich: RichRepository, dest: Path, how: signal.Signals, seed: int) -> int:
    """Start a migration, send ``how`` once a random revision is saved, return the revision
    saved when it stopped. A checkpoint after every revision makes the landing point random
    but observable; the process may still be mid-way through the next revision."""
    rng = random.Random(seed)
    wanted = rng.randint(1, 9)
    proc = start_migration(rich.url, str(dest), *mapped(rich), "--checkpoint-every", "1")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        last, _ = checkpoint(dest)
        if last is not None and last >= wanted:
            time.sleep(rng.uniform(0, 0.01))
            proc.send_signal(how)
            break
        time.sleep(0.001)
    proc.communicate(timeout=60)
    last, running = checkpoint(dest, recover=True)
    assert running, f"the migration finished before {how.name} reached it"
    assert last is not None
    assert last < rich.head, f"every revision was converted before {how.name} reached it"
    return last


def test_sigkill_at_a_random_revision_then_resume_gives_the_same_commits(
    isolated_app: AppContext, rich: RichRepository, reference: dict[str, str], tmp_path: Path
) -> None:
    for attempt in range(5):  # the kill may lose the race with a 12-revision repository
        dest = tmp_path / f"killed-{attempt}.git"
        try:
            stopped_at = interrupt(rich, dest, signal.SIGKILL, seed=attempt)
        except AssertionError:
            continue
        break
    else:
        pytest.fail("five migrations finished before SIGKILL reached them")

    again = migrate(isolated_app, rich.url, str(dest), *mapped(rich))
    assert again.exit_code == 2
    assert f"holds an interrupted migration (converted up to r{stopped_at} of r12)" in (
        again.stderr
    )
    assert "--resume" in again.stderr

    code, document = migrate_json(isolated_app, rich.url, str(dest), *mapped(rich), "--resume")
    assert code == 0, document
    assert document["data"]["resumed"] is True
    # It goes on after the last revision saved. Once in CI the refusal above said r7 and the
    # resume started at r9: most likely the kill landed while the checkpoint of r8 was committed
    # to the state's write-ahead log, and only a later open of the database recovered it. Either
    # start is right as long as the history comes out whole and equal to an uninterrupted one.
    assert document["data"]["revisions"]["from"] in {stopped_at + 1, stopped_at + 2}
    assert document["data"]["verification"]["passed"] is True
    assert refs(dest) == reference
    assert git(dest, "fsck", "--no-dangling") == ""


def test_ctrl_c_stops_at_a_revision_boundary_and_resume_continues(
    isolated_app: AppContext, rich: RichRepository, reference: dict[str, str], tmp_path: Path
) -> None:
    for attempt in range(5):
        dest = tmp_path / f"stopped-{attempt}.git"
        try:
            interrupt(rich, dest, signal.SIGINT, seed=100 + attempt)
        except AssertionError:
            continue
        break
    else:
        pytest.fail("five migrations finished before Ctrl-C reached them")
    code, document = migrate_json(isolated_app, rich.url, str(dest), *mapped(rich), "--resume")
    assert code == 0, document
    assert refs(dest) == reference


def test_ctrl_c_exits_130_and_says_how_to_continue(rich: RichRepository, tmp_path: Path) -> None:
    dest = tmp_path / "stopped.git"
    proc = start_migration(rich.url, str(dest), *mapped(rich), "--checkpoint-every", "1")
    deadline = time.monotonic() + 60
    while checkpoint(dest)[0] is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.001)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    if checkpoint(dest)[1]:  # stopped inside the conversion (not already verifying)
        assert proc.returncode == 130
        assert "interrupted after r" in stderr
        assert "continue with --resume" in stderr
    else:
        assert proc.returncode in (0, 130)


def test_rerun_fetches_only_new_revisions(
    isolated_app: AppContext,
    rich: RichRepository,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(rich.path, repo)
    url = repo.as_uri()
    dest = tmp_path / "widget.git"
    assert migrate_json(isolated_app, url, str(dest), *mapped(rich))[0] == 0
    before = refs(dest)

    wc = tmp_path / "wc"
    svn("checkout", "--quiet", f"{url}/trunk", str(wc))
    (wc / "NEWS").write_text("news\n")
    svn("add", "--quiet", "NEWS", cwd=wc)
    svn("commit", "--quiet", "-m", "News", cwd=wc, user="alice")  # r13
    copy(url, "trunk", "tags/v3.0", "Tag 3.0", "carol")  # r14
    svn("delete", "-m", "Retire feature-x", f"{url}/branches/feature-x", user="bob")  # r15

    caplog.set_level(logging.DEBUG, logger="hyperscale.runner")
    code, document = migrate_json(isolated_app, url, str(dest), *mapped(rich))
    assert code == 0, document
    assert document["data"]["revisions"]["from"] == 13
    assert document["data"]["revisions"]["converted"] == 3
    dumps = [r.getMessage() for r in caplog.records if "dump" in r.getMessage()]
    assert len(dumps) == 1
    assert "-r 13:15 --incremental" in dumps[0]

    after = refs(dest)
    for unchanged in ("refs/heads/release-1", "refs/tags/v1.0", "refs/tags/v1.1"):
        assert after[unchanged] == before[unchanged]
    assert git(dest, "rev-parse", "main^").strip() == before["refs/heads/main"]
    assert git(dest, "rev-parse", "v3.0^{commit}").strip() == after["refs/heads/main"]
    assert "refs/heads/feature-x" not in after  # deleted in Subversion, kept under refs/svn
    kept = [name for name in after if name.startswith("refs/svn/deleted/branches/feature-x@")]
    assert kept == ["refs/svn/deleted/branches/feature-x@15"]
    assert after[kept[0]] == before["refs/heads/feature-x"]

    outcome = migrate(isolated_app, url, str(dest), *mapped(rich))
    assert outcome.exit_code == 0
    assert f"is up to date with {url} at r15" in outcome.stdout


def test_converting_in_two_steps_gives_the_same_commits_as_in_one(
    isolated_app: AppContext, rich: RichRepository, reference: dict[str, str], tmp_path: Path
) -> None:
    dest = tmp_path / "widget.git"
    code, document = migrate_json(isolated_app, rich.url, str(dest), *mapped(rich), "-r", "0:6")
    assert code == 0, document
    assert document["data"]["revisions"]["to"] == 6
    gap = migrate(isolated_app, rich.url, str(dest), *mapped(rich), "-r", "9:HEAD")
    assert gap.exit_code == 2
    assert "--revisions starts at r9, but" in gap.stderr
    code, document = migrate_json(isolated_app, rich.url, str(dest), *mapped(rich))
    assert code == 0, document
    assert document["data"]["revisions"]["from"] == 7
    assert refs(dest) == reference
