"""Which dead letters a DLQ command acts on: one filter shared by `inspect` and `replay`.

Every criterion must hold for a record to match. Regexes use ``re.search``; keys and header
values are matched as UTF-8 text (undecodable bytes become U+FFFD), so binary keys match
only patterns like ``.``. Times are failed-at when the dead-letter headers carry it, else the
record's own timestamp.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from hyperscale.errors import UsageError
from hyperscale.kafka.dlq.results import DeadLetter


@dataclass(frozen=True)
class FilterSpec:
    """The filters as the user typed them (so they can also name a replay's checkpoint)."""

    since: str | None = None
    until: str | None = None
    #: Regex on the exception class / on the exception message.
    exception: str | None = None
    message: str | None = None
    #: Origin partitions (empty: any) and an inclusive origin offset range "FROM-TO", either
    #: side optional ("100-", "-200").
    partitions: Sequence[int] = ()
    offsets: str | None = None
    #: Regex on the record key.
    key: str | None = None
    #: "NAME=REGEX" (the header's last value matches) or "NAME" (the header is present).
    headers: Sequence[str] = ()

    def canonical(self) -> str:
        """A stable text of the criteria: equal filters give equal text."""
        parts = [
            f"since={self.since}",
            f"until={self.until}",
            f"exception={self.exception}",
            f"message={self.message}",
            f"partitions={sorted(set(self.partitions))}",
            f"offsets={self.offsets}",
            f"key={self.key}",
            f"headers={sorted(self.headers)}",
        ]
        return "\n".join(parts)


@dataclass(frozen=True)
class HeaderMatch:
    name: str
    pattern: re.Pattern[str] | None


@dataclass(frozen=True)
class RecordFilter:
    since_ms: int | None = None
    until_ms: int | None = None
    exception: re.Pattern[str] | None = None
    message: re.Pattern[str] | None = None
    partitions: frozenset[int] = frozenset()
    offset_from: int | None = None
    offset_to: int | None = None
    key: re.Pattern[str] | None = None
    headers: tuple[HeaderMatch, ...] = field(default_factory=tuple)

    @property
    def active(self) -> bool:
        return self != RecordFilter()

    def keeps(
        self,
        letter: DeadLetter,
        when_ms: int | None,
        key: bytes | None = None,
        headers: Sequence[tuple[str, bytes | None]] | None = None,
    ) -> bool:
        return (
            _within(when_ms, self.since_ms, None if self.until_ms is None else self.until_ms - 1)
            and _searches(self.exception, letter.exception_class)
            and _searches(self.message, letter.exception_message)
            and (not self.partitions or letter.origin_partition in self.partitions)
            and _within(letter.origin_offset, self.offset_from, self.offset_to)
            and _searches(self.key, None if key is None else _text(key))
            and self._headers_match(headers)
        )

    def _headers_match(self, headers: Sequence[tuple[str, bytes | None]] | None) -> bool:
        if not self.headers:
            return True
        last = dict(headers or [])
        for wanted in self.headers:
            if wanted.name not in last:
                return False
            value = last[wanted.name]
            if wanted.pattern is not None and (
                value is None or not wanted.pattern.search(_text(value))
            ):
                return False
        return True


def _within(value: int | None, low: int | None, high: int | None) -> bool:
    """``low <= value <= high``; an unknown value passes only when there is no bound."""
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _searches(pattern: re.Pattern[str] | None, text: str | None) -> bool:
    return pattern is None or (text is not None and pattern.search(text) is not None)


def build_filter(spec: FilterSpec, now: float) -> RecordFilter:
    """The filter, or a UsageError naming the flag that is wrong and why."""
    offset_from, offset_to = _offset_range(spec.offsets)
    return RecordFilter(
        since_ms=None if spec.since is None else parse_instant("--since", spec.since, now),
        until_ms=None if spec.until is None else parse_instant("--until", spec.until, now),
        exception=_regex("--exception", spec.exception),
        message=_regex("--message", spec.message),
        partitions=frozenset(spec.partitions),
        offset_from=offset_from,
        offset_to=offset_to,
        key=_regex("--key", spec.key),
        headers=tuple(_header(text) for text in spec.headers),
    )


_AGE = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_AGE_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RANGE = re.compile(r"(\d*)-(\d*)")


def parse_instant(flag: str, text: str, now: float) -> int:
    """Milliseconds since the epoch from ISO 8601 (naive is UTC) or an age (30m, 6h, 2d)."""
    age = _AGE.fullmatch(text.strip())
    if age:
        return int((now - float(age.group(1)) * _AGE_SECONDS[age.group(2)]) * 1000)
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(
            f"{flag} {text!r} is neither an ISO 8601 time nor an age",
            hint="e.g. 2026-01-02T03:00, 2026-01-02T03:00+01:00, 30m, 6h, 2d",
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def _regex(flag: str, pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f"{flag} {pattern!r} is not a valid regex: {exc}") from None


def _offset_range(text: str | None) -> tuple[int | None, int | None]:
    if text is None:
        return None, None
    match = _RANGE.fullmatch(text.strip())
    if match is None or match.group(1) == match.group(2) == "":
        raise UsageError(
            f"--offsets {text!r} is not a range", hint="FROM-TO, FROM- or -TO, e.g. 100-250"
        )
    low = int(match.group(1)) if match.group(1) else None
    high = int(match.group(2)) if match.group(2) else None
    if low is not None and high is not None and low > high:
        raise UsageError(f"--offsets {text!r}: {low} is after {high}")
    return low, high


def _header(text: str) -> HeaderMatch:
    name, equals, pattern = text.partition("=")
    if not name:
        raise UsageError(f"--header {text!r} has no name", hint="NAME=REGEX or NAME")
    return HeaderMatch(name, _regex(f"--header {name}", pattern) if equals else None)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")
