"""The `health:` section of an environment file: how `hyperscale health` judges endpoints, and
endpoints to check beyond the platform's own workloads (a CDN, a partner API)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, HttpUrl, field_validator, model_validator

from hyperscale.config.base import NAME_PATTERN, STRICT

#: 200, 2xx, or a range 200-204.
STATUS_PATTERN = re.compile(r"^([1-5]xx|[1-5]\d\d(-[1-5]\d\d)?)$")


def check_status_patterns(values: list[str]) -> list[str]:
    bad = [v for v in values if not STATUS_PATTERN.match(v)]
    if bad:
        raise ValueError(f"status must be codes like 200, 2xx or 200-204 (got {', '.join(bad)})")
    return values


def check_header_assertions(values: list[str]) -> list[str]:
    bad = [v for v in values if ":" not in v or not v.split(":", 1)[0].strip()]
    if bad:
        raise ValueError(
            "headers must be 'Name: regular expression', for example"
            f" 'Content-Type: ^application/json' (got {', '.join(bad)})"
        )
    return values


class _Section(BaseModel):
    model_config = STRICT


class HealthEndpoint(_Section):
    """An endpoint checked besides the workloads; each condition left out is not checked."""

    name: str = Field(pattern=NAME_PATTERN)
    url: HttpUrl
    #: Statuses that count as an answer: codes, classes (2xx) or ranges (200-204).
    status: list[str] = Field(default=["2xx"], min_length=1)
    warn_latency_ms: float | None = Field(default=None, gt=0)
    max_latency_ms: float | None = Field(default=None, gt=0)
    #: JSONPath assertions on the body: '$.status == "ok"', '$.checks[*].state != down', '$.id'.
    json_body: list[str] = Field(default_factory=list, alias="json")
    #: 'Name: regex' that the response header must match (searched, case-sensitive).
    headers: list[str] = Field(default_factory=list)
    #: A PEM bundle to trust for this endpoint (a private CA); default: the system's.
    ca_file: str | None = None
    timeout_s: float | None = Field(default=None, gt=0, le=300)

    _status = field_validator("status")(check_status_patterns)
    _headers = field_validator("headers")(check_header_assertions)


class HealthSettings(_Section):
    """Defaults for every endpoint; the command's options override them for one run."""

    #: DEGRADED (a certificate close to expiry, a slow answer, flapping) exits 1 too.
    fail_on_degraded: bool = False
    timeout_s: float = Field(default=5.0, gt=0, le=300)
    #: Consecutive failed attempts before an endpoint is DOWN (the ones before are retried).
    failure_threshold: int = Field(default=2, ge=1, le=10)
    #: Consecutive good attempts before an endpoint is UP again.
    success_threshold: int = Field(default=1, ge=1, le=10)
    retry_interval_s: float = Field(default=1.0, ge=0, le=60)
    warn_latency_ms: float | None = Field(default=None, gt=0)
    max_latency_ms: float | None = Field(default=None, gt=0)
    #: Fewer days than this before the certificate expires: DEGRADED.
    cert_warn_days: float = Field(default=14, ge=0)
    #: Fewer days than this: DOWN.
    cert_fail_days: float = Field(default=7, ge=0)
    #: Requests in flight at once.
    concurrency: int = Field(default=100, ge=1, le=1000)
    endpoints: list[HealthEndpoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _coherent(self) -> HealthSettings:
        if self.cert_fail_days > self.cert_warn_days:
            raise ValueError("cert_fail_days must not exceed cert_warn_days")
        names = [e.name for e in self.endpoints]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"endpoint names must be unique (twice: {', '.join(twice)})")
        return self
