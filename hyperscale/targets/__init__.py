"""Where the platform runs: one Target protocol (hyperscale.targets.base), one implementation
per kind. ``for_env`` is the only code that reads an environment's ``target.kind``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hyperscale.errors import UsageError

if TYPE_CHECKING:
    from hyperscale.config.models import Environment
    from hyperscale.context import AppContext
    from hyperscale.targets.base import Target
    from hyperscale.targets.local import LocalTarget


def for_env(env: Environment, app: AppContext) -> Target:
    """The target ``env`` names, ready to use (nothing is contacted until a method is called)."""
    if env.target.kind == "local":
        from hyperscale.targets.local import LocalTarget

        return LocalTarget(env, app)
    from hyperscale.targets.kubernetes import KubernetesTarget

    return KubernetesTarget(env, app)


def require_local(env: Environment, app: AppContext, purpose: str, hint: str) -> LocalTarget:
    """The local target of ``env``, or a UsageError: ``purpose`` needs this machine's processes."""
    from hyperscale.targets.local import LocalTarget

    target = for_env(env, app)
    if not isinstance(target, LocalTarget):
        raise UsageError(f"environment {env.name!r} targets {target.kind}; {purpose}", hint=hint)
    return target


def require_kubernetes(env: Environment, app: AppContext, purpose: str, hint: str) -> Target:
    """The Kubernetes target of ``env``, or a UsageError naming the kind it has."""
    target = for_env(env, app)
    if target.kind != "kubernetes":
        raise UsageError(
            f"environment {env.name!r} targets {target.kind}, not kubernetes: {purpose}", hint=hint
        )
    return target
