"""The authors file: Subversion user names to Git identities (``jdoe = Jane Doe <jane@x.org>``,
the format git-svn and svn2git read), the check that nobody is left out, and writing the list
for a team to fill in."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from hyperscale.errors import UsageError

#: What a revision without svn:author is called (git-svn's name for it too).
NO_AUTHOR = "(no author)"
_LINE = re.compile(r"^(?P<user>.+?)\s*=\s*(?P<rest>.*)$")
#: How many unmapped users an error names before it counts the rest.
_SHOWN = 10
_IDENT = re.compile(r"^(?P<name>[^<>\n]*?)\s*<(?P<email>[^<>\s]*)>$")


@dataclass(frozen=True)
class Identity:
    name: str
    email: str


def parse_authors_file(path: Path) -> dict[str, Identity | None]:
    """user -> identity; None for a user listed but not filled in yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot read the authors file {path}: {exc.strerror or exc}",
            hint="write one with `hyperscale migrate svn authors SVN_URL`",
        ) from exc
    found: dict[str, Identity | None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise UsageError(
                f"{path}:{number}: expected `svn-user = Full Name <email>`, got {line!r}"
            )
        rest = match["rest"].strip()
        if not rest:
            found[match["user"]] = None
            continue
        ident = _IDENT.match(rest)
        if ident is None or not ident["name"] or "@" not in ident["email"]:
            raise UsageError(
                f"{path}:{number}: {match['user']}'s identity must be `Full Name <email>`,"
                f" got {rest!r}"
            )
        found[match["user"]] = Identity(ident["name"], ident["email"])
    return found


@dataclass(frozen=True)
class AuthorMap:
    known: dict[str, Identity | None]
    default_domain: str | None
    source: str  # the file, for messages

    def unmapped(self, users: Iterable[str]) -> list[str]:
        return sorted({u for u in users if self.known.get(u) is None})

    def check(self, users: Iterable[str]) -> list[str]:
        """Refuse users the file does not map unless a default domain covers them; the
        users the default domain covers are returned (to report them)."""
        missing = self.unmapped(users)
        if missing and self.default_domain is None:
            shown = ", ".join(missing[:_SHOWN])
            if len(missing) > _SHOWN:
                shown += f" and {len(missing) - _SHOWN} more"
            noun = "author is" if len(missing) == 1 else "authors are"
            raise UsageError(
                f"{len(missing)} Subversion {noun} not in {self.source}: {shown}",
                hint=f"add `{missing[0]} = Full Name <email>` for each, or pass"
                " --default-domain DOMAIN; `hyperscale migrate svn authors SVN_URL`"
                " writes the list",
            )
        return missing

    def identity(self, user: str) -> Identity:
        mapped = self.known.get(user)
        if mapped is not None:
            return mapped
        if self.default_domain is None:  # check() ran first; this is a bug if reached
            raise UsageError(f"Subversion author {user!r} is not mapped")
        local = re.sub(r"[^A-Za-z0-9._+-]", "-", user.strip("()")) or "unknown"
        return Identity(user.strip("()") or "unknown", f"{local}@{self.default_domain}")


def write_authors_file(path: Path, counts: dict[str, int]) -> list[str]:
    """Add every user the file lacks (as ``user = `` to fill in), keep what is there.
    Returns the users added."""
    existing = parse_authors_file(path) if path.exists() else {}
    added = sorted(u for u in counts if u not in existing)
    if not added and path.exists():
        return []
    lines = []
    if not path.exists():
        lines = [
            "# Subversion author = Full Name <email>, one per line;"
            " `hyperscale migrate svn --authors FILE` refuses authors left empty.",
        ]
    lines += [f"{user} = " for user in added]
    previous = path.read_text(encoding="utf-8") if path.exists() else ""
    if previous and not previous.endswith("\n"):
        previous += "\n"
    try:
        path.write_text(previous + "\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return added
