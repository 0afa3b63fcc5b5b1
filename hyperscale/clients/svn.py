"""Subversion through its own programs (svn, svnadmin, svnrdump): repository facts, logs,
exports, property lists and dump streams. Every call goes through hyperscale.runner."""

from __future__ import annotations

import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hyperscale import runner
from hyperscale.errors import ExternalSystemError, UsageError

#: svn converts paths between the locale's encoding and UTF-8: without a UTF-8 locale a
#: non-ASCII path is an error ("Can't convert string from native encoding").
SVN_ENV = {"LC_ALL": "C.UTF-8"}
BASE = ("svn", "--non-interactive")


@dataclass(frozen=True)
class RepositoryInfo:
    url: str
    root_url: str
    uuid: str
    #: The youngest revision of the repository.
    head: int
    #: The URL's path inside the repository, "" for the root, no leading or trailing slash.
    path: str


@dataclass(frozen=True)
class LogEntry:
    revision: int
    #: "" when the revision has no svn:author.
    author: str
    date: str


def _svn(*args: str, what: str) -> str:
    return runner.run([*BASE, *args], env=SVN_ENV, what=what).stdout


def _xml(text: str, what: str) -> ET.Element:
    try:
        return ET.fromstring(text)  # noqa: S314 - svn's own output, not untrusted input
    except ET.ParseError as exc:
        raise ExternalSystemError(f"{what} printed XML that does not parse: {exc}") from exc


def repository_info(url: str) -> RepositoryInfo:
    what = f"svn info {url}"
    root = _xml(_svn("info", "--xml", url, what=what), what)
    entry = root.find("entry")
    repo = entry.find("repository") if entry is not None else None
    if entry is None or repo is None:
        raise ExternalSystemError(f"{what} printed no repository entry")
    root_url = (repo.findtext("root") or "").rstrip("/")
    uuid = repo.findtext("uuid") or ""
    full = (entry.findtext("url") or url).rstrip("/")
    path = urllib.parse.unquote(full[len(root_url) :]).strip("/")
    return RepositoryInfo(
        url=full, root_url=root_url, uuid=uuid, head=youngest(root_url), path=path
    )


def youngest(url: str) -> int:
    """HEAD of the repository (svn info's Revision of a URL is HEAD too, but say it plainly)."""
    text = _svn("info", "--show-item", "revision", f"{url}@HEAD", what=f"svn info {url}")
    return int(text.strip())


def log_authors(url: str, start: int, end: int) -> list[LogEntry]:
    """Author and date of every revision in start..end that touched ``url`` (the root: all)."""
    what = f"svn log {url}"
    text = _svn("log", "--xml", "--quiet", "-r", f"{start}:{end}", f"{url}@{end}", what=what)
    entries = []
    for node in _xml(text, what).iter("logentry"):
        entries.append(
            LogEntry(
                revision=int(node.get("revision", "0")),
                author=node.findtext("author") or "",
                date=node.findtext("date") or "",
            )
        )
    return entries


def list_names(url: str, revision: int) -> set[str] | None:
    """The names in a directory at a revision, or None when there is no such directory."""
    done = runner.run(
        [*BASE, "list", f"{url}@{revision}"],
        env=SVN_ENV,
        check=False,
        what=f"svn list {url}",
    )
    if done.returncode != 0:
        if "E200009" in done.stderr or "E160013" in done.stderr or "non-existent" in done.stderr:
            return None
        raise ExternalSystemError(
            f"svn list {url}@{revision} failed: {done.stderr.strip().splitlines()[-1:]}"
        )
    return {line.rstrip("/") for line in done.stdout.splitlines() if line}


def export(url: str, revision: int, dest: Path) -> None:
    """The tree as committed: keywords unexpanded, native line endings as LF, so the files
    are byte for byte what the repository holds (what a conversion must reproduce)."""
    runner.run(
        [
            *BASE,
            "export",
            "--quiet",
            "--force",
            "--ignore-keywords",
            "--native-eol",
            "LF",
            f"{url}@{revision}",
            str(dest),
        ],
        env=SVN_ENV,
        what=f"svn export {url}@{revision}",
    )


def properties(url: str, revision: int) -> dict[str, dict[str, str]]:
    """Every versioned property under ``url``: relative path ("" for url itself) -> props."""
    what = f"svn proplist {url}@{revision}"
    text = _svn("proplist", "--xml", "-R", "-v", f"{url}@{revision}", what=what)
    found: dict[str, dict[str, str]] = {}
    base = url.rstrip("/")
    for target in _xml(text, what).iter("target"):
        path = urllib.parse.unquote(target.get("path", "").removeprefix(base)).strip("/")
        found[path] = {p.get("name", ""): p.text or "" for p in target.iter("property")}
    return found


def local_repository(url: str) -> Path | None:
    """The directory of a file:// repository this machine can read, else None."""
    if not url.startswith("file://"):
        return None
    path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    return path if (path / "format").is_file() and (path / "db").is_dir() else None


@contextmanager
def dump(root_url: str, start: int, end: int, *, incremental: bool) -> Iterator[IO[bytes]]:
    """The repository's dump stream for start..end.

    A local repository is dumped by ``svnadmin dump`` (full texts, the fastest path); any
    other URL by ``svnrdump dump``, which speaks to the server and sends texts as deltas.
    """
    local = local_repository(root_url)
    revisions = ["-r", f"{start}:{end}"] + (["--incremental"] if incremental else [])
    if local is not None:
        argv = ["svnadmin", "dump", "--quiet", *revisions, str(local)]
        what = f"svnadmin dump {local}"
    else:
        argv = ["svnrdump", "dump", "--quiet", "--non-interactive", *revisions, root_url]
        what = f"svnrdump dump {root_url}"
    with runner.stream(argv, env=SVN_ENV, read=True, what=what) as proc:
        assert proc.stdout is not None  # noqa: S101 - read=True always pipes it
        yield proc.stdout


def check_url(url: str) -> None:
    """A clear usage error for something that is not a URL svn can open."""
    if "://" not in url:
        raise UsageError(
            f"{url} is not a Subversion URL",
            hint="use file:///path/to/repo for a local repository, or http(s):// / svn://",
        )
