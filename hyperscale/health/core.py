"""`hyperscale health`: which endpoints to check (the target's workloads, the environment's
`health.endpoints`, ``--url``), checking them all at once with retries, and the typed report.
Never prints."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from hyperscale.clients.http import HttpProber, HttpRequest
from hyperscale.config.health import HealthEndpoint, HealthSettings
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.health.conditions import Outcome, judge
from hyperscale.health.policy import (
    EndpointSpec,
    Policy,
    header_assertion,
    json_assertion,
    status_set,
)
from hyperscale.health.results import EndpointHealth, HealthReport, reason_of
from hyperscale.health.thresholds import Tracker
from hyperscale.targets import for_env


@dataclass(frozen=True)
class HealthOptions:
    """The command's options. None means: the environment's `health:` setting (or its default)."""

    urls: list[str] = field(default_factory=list)
    #: Check only ``urls``: not the workloads, not the environment's endpoints.
    urls_only: bool = False
    #: Conditions for the ``urls`` (the environment's endpoints carry their own).
    status: list[str] = field(default_factory=list)
    expect_json: list[str] = field(default_factory=list)
    expect_header: list[str] = field(default_factory=list)
    ca_file: str | None = None
    timeout_s: float | None = None
    failure_threshold: int | None = None
    success_threshold: int | None = None
    retry_interval_s: float | None = None
    warn_latency_ms: float | None = None
    max_latency_ms: float | None = None
    cert_warn_days: float | None = None
    cert_fail_days: float | None = None
    concurrency: int | None = None
    fail_on_degraded: bool | None = None


def endpoints_for(env: Environment, app: AppContext, options: HealthOptions) -> list[EndpointSpec]:
    """Every endpoint this run checks, each with its policy."""
    settings = env.health
    base = _base_policy(settings, options)
    specs: list[EndpointSpec] = []
    if not options.urls_only:
        specs += [
            EndpointSpec(w.name, w.health_url, "workload", base)
            for w in for_env(env, app).workloads()
            if w.health_url
        ]
        specs += [
            EndpointSpec(e.name, str(e.url), "environment", _endpoint_policy(env, e, base, options))
            for e in settings.endpoints
        ]
    specs += _option_endpoints(options, base)
    if not specs:
        raise UsageError(
            "nothing to check",
            hint="give --url URL, or leave out --urls-only to check the workloads",
        )
    return specs


def _base_policy(settings: HealthSettings, options: HealthOptions) -> Policy:
    policy = Policy(
        timeout_s=settings.timeout_s,
        failure_threshold=settings.failure_threshold,
        success_threshold=settings.success_threshold,
        retry_interval_s=settings.retry_interval_s,
        warn_latency_ms=settings.warn_latency_ms,
        max_latency_ms=settings.max_latency_ms,
        cert_warn_days=settings.cert_warn_days,
        cert_fail_days=settings.cert_fail_days,
    ).with_overrides(
        timeout_s=options.timeout_s,
        failure_threshold=options.failure_threshold,
        success_threshold=options.success_threshold,
        retry_interval_s=options.retry_interval_s,
        warn_latency_ms=options.warn_latency_ms,
        max_latency_ms=options.max_latency_ms,
        cert_warn_days=options.cert_warn_days,
        cert_fail_days=options.cert_fail_days,
    )
    if policy.cert_fail_days > policy.cert_warn_days:
        raise UsageError(
            f"--cert-fail-days {policy.cert_fail_days:g} exceeds --cert-warn-days"
            f" {policy.cert_warn_days:g}",
            hint="a certificate is DEGRADED below the warn days and DOWN below the fail days",
        )
    return policy


def _endpoint_policy(
    env: Environment, endpoint: HealthEndpoint, base: Policy, options: HealthOptions
) -> Policy:
    where = f"environment {env.name}, health endpoint {endpoint.name}"
    return base.with_overrides(
        status=status_set(endpoint.status, where),
        json_body=tuple(json_assertion(t, where) for t in endpoint.json_body),
        headers=tuple(header_assertion(t, where) for t in endpoint.headers),
        ca_file=_ca_file(endpoint.ca_file, where),
        timeout_s=options.timeout_s or endpoint.timeout_s,
        warn_latency_ms=options.warn_latency_ms or endpoint.warn_latency_ms,
        max_latency_ms=options.max_latency_ms or endpoint.max_latency_ms,
    )


def _option_endpoints(options: HealthOptions, base: Policy) -> list[EndpointSpec]:
    if not options.urls:
        if options.status or options.expect_json or options.expect_header:
            raise UsageError("--status, --expect-json and --expect-header apply to --url endpoints")
        return []
    policy = base.with_overrides(
        status=status_set(options.status, "--status") if options.status else None,
        json_body=tuple(json_assertion(t, "--expect-json") for t in options.expect_json),
        headers=tuple(header_assertion(t, "--expect-header") for t in options.expect_header),
        ca_file=_ca_file(options.ca_file, "--ca-file"),
    )
    for url in options.urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(f"--url {url!r}: give an http:// or https:// URL with a host")
    return [EndpointSpec(url, url, "option", policy) for url in dict.fromkeys(options.urls)]


def _ca_file(path: str | None, where: str) -> str | None:
    if path is None:
        return None
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise UsageError(f"{where}: CA bundle {resolved} does not exist")
    return str(resolved)


class HealthChecker:
    """Checks a fixed set of endpoints, round after round; the thresholds' counts carry over
    between rounds (``--watch``)."""

    def __init__(
        self, environment: str, specs: list[EndpointSpec], concurrency: int, fail_on_degraded: bool
    ) -> None:
        self.environment = environment
        self.specs = specs
        self.concurrency = max(1, min(concurrency, len(specs)))
        self.fail_on_degraded = fail_on_degraded
        self.trackers = [
            Tracker(s.policy.failure_threshold, s.policy.success_threshold) for s in specs
        ]

    def run_round(self) -> HealthReport:
        started_wall, started = time.time(), time.perf_counter()
        endpoints = asyncio.run(self._round())
        return HealthReport(
            self.environment,
            endpoints,
            self.fail_on_degraded,
            checked_at=started_wall,
            seconds=time.perf_counter() - started,
        )

    async def _round(self) -> list[EndpointHealth]:
        results: list[EndpointHealth | None] = [None] * len(self.specs)
        # A fixed pool of workers pulls from one iterator: memory stays flat however many
        # endpoints there are, and at most ``concurrency`` requests are in flight.
        pending = iter(range(len(self.specs)))
        async with HttpProber(self.concurrency) as prober:

            async def worker() -> None:
                for index in pending:
                    results[index] = await self._check(prober, index)

            await asyncio.gather(*(worker() for _ in range(self.concurrency)))
        return [r for r in results if r is not None]

    async def _check(self, prober: HttpProber, index: int) -> EndpointHealth:
        spec, tracker = self.specs[index], self.trackers[index]
        policy = spec.policy
        request = HttpRequest(spec.url, timeout=policy.timeout_s, ca_file=policy.ca_file)
        attempts = failed = 0
        while True:
            seen = await prober.probe(request)
            conditions = judge(seen, policy)
            worst = max((c.outcome for c in conditions), default=Outcome.PASS)
            ok = worst is not Outcome.FAIL
            attempts += 1
            failed += not ok
            reached = tracker.record(ok)
            if reached or attempts >= policy.max_attempts:
                break
            await asyncio.sleep(policy.retry_interval_s)
        state, note = tracker.settle(ok, worst is Outcome.WARN, reached)
        if failed and ok and not note:
            note = f"answered after {failed} failed attempt{'s' if failed > 1 else ''}"
        days = None
        if seen.cert_not_after is not None:
            days = (seen.cert_not_after - time.time()) / 86_400
        return EndpointHealth(
            name=spec.name,
            url=spec.url,
            source=spec.source,
            state=state,
            reason=reason_of(conditions, note),
            status_code=seen.status,
            latency_ms=None if seen.error else seen.elapsed_s * 1000,
            cert_not_after=seen.cert_not_after,
            cert_days=days,
            attempts=attempts,
            failed_attempts=failed,
            conditions=conditions,
        )


def checker_for(env: Environment, app: AppContext, options: HealthOptions) -> HealthChecker:
    specs = endpoints_for(env, app, options)
    settings = env.health
    fail_on_degraded = (
        settings.fail_on_degraded if options.fail_on_degraded is None else options.fail_on_degraded
    )
    return HealthChecker(
        env.name, specs, options.concurrency or settings.concurrency, fail_on_degraded
    )


def check_health(env: Environment, app: AppContext, options: HealthOptions) -> HealthReport:
    """One round over every endpoint."""
    return checker_for(env, app, options).run_round()
