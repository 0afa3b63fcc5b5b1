"""The errors the API turns into HTTP answers: each one becomes a short JSON body."""

from __future__ import annotations

from typing import Any


class ConfigurationError(Exception):
    """A setting or secret file is wrong; the service refuses to start."""


class ApiError(Exception):
    """A client-facing error with its status and a JSON body ``{"error": ..., **extra}``."""

    def __init__(
        self, status: int, message: str, *, retry_after_s: int | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after_s = retry_after_s
        self.extra = extra
        self.headers: dict[str, str] = {}

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}


class DependencyUnavailableError(ApiError):
    """A backing service (MySQL, Redis, Kafka) did not answer in time: 503, retry later.

    The client is told which dependency, never why: ``detail`` (an error's text, which can hold
    a host, a port or a driver's message) is for the log only (issue 19 item 6).
    """

    def __init__(self, dependency: str, detail: str, **extra: Any) -> None:
        super().__init__(
            503,
            f"{dependency} unavailable",
            retry_after_s=1,
            dependency=dependency,
            **extra,
        )
        self.dependency = dependency
        self.detail = detail
