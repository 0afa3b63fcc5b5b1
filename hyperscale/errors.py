"""Known errors: each carries what went wrong, where, how to fix it, and its exit code."""

from __future__ import annotations

from hyperscale.exit_codes import ExitCode


class HyperscaleError(Exception):
    """An error the user can act on. The error boundary prints it as one line, no traceback."""

    exit_code: ExitCode = ExitCode.EXTERNAL
    code: str = "error"

    def __init__(
        self, message: str, *, hint: str | None = None, details: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or []

    def lines(self) -> list[str]:
        """The message with its fix, then any further problems, one per line."""
        return [summary(self.message, self.hint), *self.details]


def summary(message: str, hint: str | None) -> str:
    """The one line an error prints: what went wrong, and in brackets how to fix it."""
    return f"{message} ({hint})" if hint else message


class UsageError(HyperscaleError):
    exit_code = ExitCode.USAGE
    code = "usage"


class ConfigError(UsageError):
    """A malformed or invalid environment file, or an unknown environment name."""

    code = "config"


class ExternalSystemError(HyperscaleError):
    """A broker, database, cloud API or binary outside hyperscale failed or is unreachable."""

    exit_code = ExitCode.EXTERNAL
    code = "external"


class CheckFailedError(HyperscaleError):
    exit_code = ExitCode.CHECK_FAILED
    code = "check_failed"
