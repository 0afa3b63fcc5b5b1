"""What to check on an endpoint and how to judge it: statuses, latency, certificate days, JSONPath
and header assertions, timeouts and thresholds. Built from the environment's `health:` section
and the command's options; a malformed assertion is a UsageError naming where it came from."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from hyperscale.errors import UsageError

_ASSERTION = re.compile(r"^\s*(?P<path>.+?)\s*(?P<op>==|!=|>=|<=|=~|>|<)\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class StatusSet:
    """Statuses that count as an answer: codes, classes (2xx) and ranges (200-204)."""

    patterns: tuple[str, ...] = ("2xx",)

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        for pattern in self.patterns:
            if pattern.endswith("xx"):
                if code // 100 == int(pattern[0]):
                    return True
            elif "-" in pattern:
                low, high = (int(p) for p in pattern.split("-"))
                if low <= code <= high:
                    return True
            elif code == int(pattern):
                return True
        return False

    def __str__(self) -> str:
        return ",".join(self.patterns)


def status_set(values: list[str], where: str) -> StatusSet:
    from hyperscale.config.health import STATUS_PATTERN

    patterns = tuple(p.strip() for v in values for p in v.split(",") if p.strip())
    bad = [p for p in patterns if not STATUS_PATTERN.match(p)]
    if bad or not patterns:
        raise UsageError(
            f"{where}: status must be codes like 200, 2xx or 200-204 (got {', '.join(bad) or '-'})"
        )
    return StatusSet(patterns)


@dataclass(frozen=True)
class JsonAssertion:
    """``PATH OP VALUE`` on the JSON body, or ``PATH`` alone (it must match something).

    Every value the path matches must satisfy the comparison. VALUE is read as JSON when it
    parses (``1``, ``true``, ``"ok"``), else as a plain string; ``=~`` takes a regular expression.
    """

    text: str
    path: str
    op: str | None
    expected: Any
    compiled: Any = field(compare=False, repr=False)

    def check(self, document: Any) -> str | None:
        """None when it holds; else what was found instead."""
        found = [m.value for m in self.compiled.find(document)]
        if not found:
            return f"{self.path} matched nothing"
        if self.op is None:
            return None
        wrong = [v for v in found if not _compare(v, self.op, self.expected)]
        if wrong:
            shown = ", ".join(json.dumps(v, default=str)[:60] for v in wrong[:3])
            return f"{self.text}: found {shown}"
        return None


def json_assertion(text: str, where: str) -> JsonAssertion:
    from jsonpath_ng.exceptions import JSONPathError
    from jsonpath_ng.ext.parser import parse

    matched = _ASSERTION.match(text)
    path, op, raw = (
        (matched["path"], matched["op"], matched["value"]) if matched else (text.strip(), None, "")
    )
    try:
        compiled = parse(path)
    except (JSONPathError, Exception) as exc:  # noqa: BLE001 - the parser raises bare Exceptions too
        raise UsageError(
            f"{where}: {text!r} is not a JSONPath assertion: {exc}",
            hint="write PATH OP VALUE, for example '$.status == \"ok\"', or PATH alone",
        ) from None
    expected: Any = raw
    if op == "=~":
        try:
            expected = re.compile(raw)
        except re.error as exc:
            raise UsageError(f"{where}: {raw!r} is not a regular expression: {exc}") from None
    elif op is not None:
        try:
            expected = json.loads(raw)
        except ValueError:
            expected = raw
    return JsonAssertion(text, path, op, expected, compiled)


def _compare(found: Any, op: str, expected: Any) -> bool:
    if op == "=~":
        return bool(expected.search(found if isinstance(found, str) else json.dumps(found)))
    if op in ("==", "!="):
        same = found == expected or (isinstance(found, str) and found == str(expected))
        return same if op == "==" else not same
    try:
        left, right = float(found), float(expected)
    except (TypeError, ValueError):
        return False
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]


@dataclass(frozen=True)
class HeaderAssertion:
    """``Name: regex``: the header must be there and its value must match (searched)."""

    text: str
    name: str
    pattern: re.Pattern[str]


def header_assertion(text: str, where: str) -> HeaderAssertion:
    name, sep, pattern = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(
            f"{where}: {text!r} is not a header assertion",
            hint="write 'Name: regular expression', for example 'Content-Type: ^application/json'",
        )
    try:
        compiled = re.compile(pattern.strip())
    except re.error as exc:
        raise UsageError(
            f"{where}: {pattern.strip()!r} is not a regular expression: {exc}"
        ) from None
    return HeaderAssertion(text, name.strip().lower(), compiled)


@dataclass(frozen=True)
class Policy:
    """How one endpoint is judged and retried."""

    timeout_s: float = 5.0
    failure_threshold: int = 2
    success_threshold: int = 1
    retry_interval_s: float = 1.0
    status: StatusSet = StatusSet()
    warn_latency_ms: float | None = None
    max_latency_ms: float | None = None
    cert_warn_days: float = 14.0
    cert_fail_days: float = 7.0
    json_body: tuple[JsonAssertion, ...] = ()
    headers: tuple[HeaderAssertion, ...] = ()
    ca_file: str | None = None

    @property
    def max_attempts(self) -> int:
        """Enough to reach either threshold once; results that alternate stop here (flapping)."""
        return self.failure_threshold + self.success_threshold

    def with_overrides(self, **changes: Any) -> Policy:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass(frozen=True)
class EndpointSpec:
    """One endpoint to check: its name, URL, where it came from, and its policy."""

    name: str
    url: str
    #: workload (the target's), environment (health.endpoints), or option (--url)
    source: str
    policy: Policy
