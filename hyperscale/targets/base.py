"""The one interface every place the platform runs provides, and the typed answers it gives.

`deploy`, `status`, `smoke`, and later `chaos` and `health`, talk to a Target and never learn
which kind it is; `hyperscale.targets.for_env` is the only code that reads ``target.kind``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from hyperscale.progress import Progress


@dataclass(frozen=True)
class Workload:
    """One deployable part of the platform: the API, or one consumer."""

    name: str
    #: api or consumer
    role: str
    #: Where it listens (its base URL or metrics URL), as an operator would reach it.
    address: str
    #: Where it answers whether it can serve (readiness), for `hyperscale health`.
    health_url: str = ""


@dataclass(frozen=True)
class WorkloadState:
    name: str
    #: running, starting, backoff, fatal, stopped... (lower case)
    state: str
    ready: bool
    address: str
    #: The process id on the local target; None where there is no single process.
    pid: int | None = None
    uptime_s: float | None = None
    #: Why it is not ready, when it is not.
    detail: str = ""


@dataclass(frozen=True)
class Rollout:
    """What a deploy changed: workloads started for the first time, replaced, or removed."""

    added: list[str]
    changed: list[str]
    removed: list[str]

    def action(self, name: str) -> str:
        if name in self.added:
            return "started"
        return "restarted" if name in self.changed else "unchanged"


@dataclass(frozen=True)
class TargetStatus:
    #: False when nothing has been deployed there (or it was stopped).
    deployed: bool
    workloads: list[WorkloadState]


@dataclass(frozen=True)
class Disruption:
    """One instance of a workload taken down on purpose (a chaos drill's unit of harm)."""

    workload: str
    #: What was hit: ``pid 1234`` locally, a pod name on Kubernetes.
    instance: str
    how: str


class Target(Protocol):
    """Where the platform runs. Methods raise HyperscaleError subclasses, never SDK errors."""

    @property
    def kind(self) -> str: ...

    @property
    def description(self) -> str:
        """One line naming the place: ``supervisord on this machine``, a kubeconfig context."""
        ...

    def preflight(self) -> None:
        """Fail fast, before any change, when this target cannot be deployed to."""

    def workloads(self) -> list[Workload]:
        """What a deploy puts there."""
        ...

    def deploy(self, progress: Progress) -> Rollout:
        """Start or update every workload; a second run with nothing new changes nothing."""
        ...

    def wait_ready(self, timeout: float) -> list[WorkloadState]:
        """Block until every workload is ready; a failed one is named with its log."""
        ...

    def status(self) -> TargetStatus: ...

    def rollback(self, revision: str | None) -> Rollout:
        """Go back to ``revision`` (None: the one before the current)."""
        ...

    def disrupt(self, workload: str, count: int) -> list[Disruption]:
        """Kill ``count`` running instances of ``workload`` the hard way (no graceful stop)."""
        ...

    def stop(self) -> bool:
        """Take every workload down; False when nothing was running."""
        ...

    def referenced_images(self) -> dict[str, list[str]]:
        """Image reference -> what uses it there; registry cleanup never deletes these."""
        ...
