"""Which registry images cleanup deletes, and why each survivor stays. Pure: no I/O."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hyperscale.clients.registry import RegistryImage

#: A release: 1.2.3 or v1.2.3, with an optional pre-release (1.2.3-rc.1).
SEMVER = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$")
_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> dt.timedelta:
    """``30d``, ``12h``, ``2w``...; ValueError otherwise."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30d, 12h or 2w")
    return dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


@dataclass(frozen=True)
class Decision:
    image: RegistryImage
    delete: bool
    #: For a survivor every reason it is kept; for a deletion why it may go.
    reasons: list[str] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        pushed = self.image.pushed_at
        return {
            "repository": self.image.repository,
            "digest": self.image.digest,
            "tags": self.image.tags,
            "pushed_at": pushed.isoformat() if pushed else None,
            "action": "delete" if self.delete else "keep",
            "reasons": self.reasons,
        }


def _references(
    referenced: Mapping[str, Sequence[str]],
) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]:
    """By digest, and by (repository path, tag); the registry host is ignored on purpose: the
    same repository reached under another name is still the same image."""
    by_digest: dict[str, list[str]] = {}
    by_tag: dict[tuple[str, str], list[str]] = {}
    for ref, users in referenced.items():
        name, at, digest = ref.partition("@")
        if at:
            by_digest.setdefault(digest, []).extend(users)
            continue
        first, slash, rest = name.partition("/")
        has_host = slash and ("." in first or ":" in first or first == "localhost")
        path = rest if has_host else name
        repo, colon, tag = path.rpartition(":")
        if colon and "/" not in tag:
            by_tag.setdefault((repo, tag), []).extend(users)
    return by_digest, by_tag


def plan_cleanup(
    images: Sequence[RegistryImage],
    *,
    keep: int,
    older_than: dt.timedelta,
    now: dt.datetime,
    referenced: Mapping[str, Sequence[str]],
) -> list[Decision]:
    by_digest, by_tag = _references(referenced)
    decisions: list[Decision] = []
    repositories = sorted({i.repository for i in images})
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    for repository in repositories:
        mine = [i for i in images if i.repository == repository]
        mine.sort(key=lambda i: (i.pushed_at or now, i.digest), reverse=True)
        for rank, image in enumerate(mine):
            keep_reasons: list[str] = []
            if rank < keep:
                keep_reasons.append(f"among the newest {keep} of {repository}")
            releases = [t for t in image.tags if SEMVER.match(t)]
            if releases:
                keep_reasons.append(f"release tag {', '.join(releases)}")
            users = list(by_digest.get(image.digest, []))
            for tag in image.tags:
                users += by_tag.get((repository, tag), [])
            if users:
                keep_reasons.append(f"referenced by {', '.join(sorted(set(users)))}")
            if image.pushed_at is None:
                keep_reasons.append("push time unknown")
            elif now - image.pushed_at < older_than:
                keep_reasons.append(f"pushed within {_human(older_than)}")
            if keep_reasons:
                decisions.append(Decision(image, delete=False, reasons=keep_reasons))
            else:
                age = now - (image.pushed_at or oldest)
                decisions.append(
                    Decision(
                        image,
                        delete=True,
                        reasons=[f"{age.days}d old, not among the newest {keep}, unreferenced"],
                    )
                )
    return decisions


def _human(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit in ("w", "d", "h", "m"):
        if seconds and seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"
