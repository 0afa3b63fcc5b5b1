"""The guard in front of every destructive command on a protected environment (prod)."""

from __future__ import annotations

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError


def confirm_protected(app: AppContext, env: Environment, action: str, *, yes: bool) -> None:
    """Return when ``action`` may go ahead on ``env``: it is not protected, ``--yes`` was
    given, or a person at a terminal typed the environment's name. Otherwise a UsageError.

    Typing the name, not "y", because muscle memory answers "y" to anything.
    """
    if not env.protected or yes:
        return
    if app.stdin_isatty and app.stderr_isatty:
        app.stderr.write(
            f"{env.name} is protected. This will {action}.\n"
            f"Type the environment's name ({env.name}) to go ahead: "
        )
        app.stderr.flush()
        answer = input()
        if answer.strip() == env.name:
            return
        raise UsageError(f"not confirmed: {action} on {env.name} was not done")
    raise UsageError(
        f"{env.name} is protected: refusing to {action} without confirmation",
        hint="add --yes, or run it at a terminal to confirm interactively; --dry-run shows"
        " what it would do",
    )


def confirm_destroy(app: AppContext, env: Environment, action: str, *, yes: bool) -> None:
    """Return when ``action`` (destroying infrastructure) may go ahead on ``env``: ``--yes``
    everywhere, and on a protected environment also its name typed (read from stdin, so a
    pipeline must type it too). Otherwise a UsageError."""
    if not yes:
        raise UsageError(
            f"refusing to {action} on {env.name} without --yes",
            hint="add --yes; --dry-run shows what would be destroyed",
        )
    if not env.protected:
        return
    app.stderr.write(
        f"{env.name} is protected. This will {action}.\n"
        f"Type the environment's name ({env.name}) to go ahead: "
    )
    app.stderr.flush()
    try:
        answer = input()
    except EOFError:
        answer = ""
    if answer.strip() != env.name:
        raise UsageError(
            f"not confirmed: {action} on {env.name} was not done",
            hint=f"type {env.name} exactly when asked",
        )
