"""The conditions an answer is judged by. Each is a callable that takes what one request saw and
the endpoint's policy and returns a typed ConditionResult (or None when the policy does not ask
for it); CONDITIONS is the one registry, in the order results are shown. A new kind of check
is one function and one line here."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from hyperscale.clients.http import HttpObservation
from hyperscale.health.policy import Policy

SECONDS_PER_DAY = 86_400


class Outcome(IntEnum):
    """Ordered by severity: an attempt is as bad as its worst condition."""

    PASS = 0
    WARN = 1
    FAIL = 2


@dataclass(frozen=True)
class ConditionResult:
    name: str
    outcome: Outcome
    detail: str


@dataclass(frozen=True)
class Probe:
    """One answer with the moment it was judged at (certificate days count from then)."""

    seen: HttpObservation
    judged_at: float


Condition = Callable[[Probe, Policy], "ConditionResult | None"]


def answered(probe: Probe, policy: Policy) -> ConditionResult | None:
    if probe.seen.error is not None:
        return ConditionResult("answer", Outcome.FAIL, probe.seen.error)
    return None


def status_code(probe: Probe, policy: Policy) -> ConditionResult | None:
    code = probe.seen.status
    if code is None:
        return None
    if code in policy.status:
        return ConditionResult("status", Outcome.PASS, str(code))
    return ConditionResult("status", Outcome.FAIL, f"{code}, expected {policy.status}")


def latency(probe: Probe, policy: Policy) -> ConditionResult | None:
    if probe.seen.error is not None:
        return None
    ms = probe.seen.elapsed_s * 1000
    if policy.max_latency_ms is not None and ms > policy.max_latency_ms:
        return ConditionResult(
            "latency", Outcome.FAIL, f"{ms:.0f} ms > {policy.max_latency_ms:g} ms"
        )
    if policy.warn_latency_ms is not None and ms > policy.warn_latency_ms:
        return ConditionResult(
            "latency", Outcome.WARN, f"{ms:.0f} ms > {policy.warn_latency_ms:g} ms"
        )
    if policy.max_latency_ms is None and policy.warn_latency_ms is None:
        return None
    return ConditionResult("latency", Outcome.PASS, f"{ms:.0f} ms")


def certificate_expiry(probe: Probe, policy: Policy) -> ConditionResult | None:
    not_after = probe.seen.cert_not_after
    if not_after is None:
        return None
    days = (not_after - probe.judged_at) / SECONDS_PER_DAY
    shown = f"expires in {days:.1f} days"
    if days < policy.cert_fail_days:
        return ConditionResult(
            "certificate", Outcome.FAIL, f"{shown} (< {policy.cert_fail_days:g})"
        )
    if days < policy.cert_warn_days:
        return ConditionResult(
            "certificate", Outcome.WARN, f"{shown} (< {policy.cert_warn_days:g})"
        )
    return ConditionResult("certificate", Outcome.PASS, shown)


def header_match(probe: Probe, policy: Policy) -> ConditionResult | None:
    if probe.seen.error is not None or not policy.headers:
        return None
    problems = []
    for wanted in policy.headers:
        value = probe.seen.headers.get(wanted.name)
        if value is None:
            problems.append(f"no {wanted.name} header")
        elif not wanted.pattern.search(value):
            problems.append(f"{wanted.name}: {value!r} does not match {wanted.pattern.pattern!r}")
    if problems:
        return ConditionResult("headers", Outcome.FAIL, "; ".join(problems))
    return ConditionResult("headers", Outcome.PASS, f"{len(policy.headers)} matched")


def json_body(probe: Probe, policy: Policy) -> ConditionResult | None:
    if probe.seen.error is not None or not policy.json_body:
        return None
    if probe.seen.body_truncated:
        return ConditionResult("body", Outcome.FAIL, "body too large to judge")
    try:
        document = json.loads(probe.seen.body)
    except ValueError:
        return ConditionResult("body", Outcome.FAIL, "not JSON")
    problems = [p for a in policy.json_body if (p := a.check(document)) is not None]
    if problems:
        return ConditionResult("body", Outcome.FAIL, "; ".join(problems))
    return ConditionResult("body", Outcome.PASS, f"{len(policy.json_body)} assertions held")


CONDITIONS: list[tuple[str, Condition]] = [
    ("answer", answered),
    ("status", status_code),
    ("latency", latency),
    ("certificate", certificate_expiry),
    ("headers", header_match),
    ("body", json_body),
]


def judge(seen: HttpObservation, policy: Policy, now: float | None = None) -> list[ConditionResult]:
    """Every registered condition's verdict on one answer, in registry order."""
    probe = Probe(seen, time.time() if now is None else now)
    return [r for _, condition in CONDITIONS if (r := condition(probe, policy)) is not None]
