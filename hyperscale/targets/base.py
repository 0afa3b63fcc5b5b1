"""The one interface every place the platform runs provides, and the typed answers it gives.

`deploy`, `status`, `smoke`, and later `chaos` and `health`, talk to a Target and never learn
which kind it is; `hyperscale.targets.for_env` is the only code that reads ``target.kind``.
"""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

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
    #: Kubernetes: replica counts and the image (by digest) of each container.
    replicas: Replicas | None = None
    images: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeployRequest:
    """What a deploy puts on the target beyond the environment file itself."""

    #: The rendered Kubernetes objects, images pinned (Kubernetes targets; unused locally).
    objects: list[dict[str, Any]] = field(default_factory=list)
    git_commit: str = ""
    image_tag: str = ""
    timeout_s: float = 600.0
    #: Go back to the previous revision when the new one fails.
    rollback_on_failure: bool = True
    reason: str = ""


@dataclass(frozen=True)
class Rollout:
    """What a deploy changed: workloads started for the first time, replaced, or removed."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    #: The revision this deploy recorded (targets that keep a history), else None.
    revision: int | None = None
    #: Objects (``Kind ns/name``) created, changed, left alone, pruned, and not applied
    #: because the cluster does not serve their kind.
    objects_added: list[str] = field(default_factory=list)
    objects_changed: list[str] = field(default_factory=list)
    objects_unchanged: int = 0
    objects_pruned: list[str] = field(default_factory=list)
    objects_skipped: list[str] = field(default_factory=list)
    #: When the new revision failed: the named failure (workload, pod, reason, events, logs),
    #: as lines for people and as fields for scripts.
    failure: list[str] = field(default_factory=list)
    failure_named: dict[str, Any] = field(default_factory=dict)
    #: When it failed and was rolled back: the revision restored and whether it is ready.
    rolled_back_to: int | None = None
    rollback_ready: bool | None = None
    #: Image reference per workload container.
    images: dict[str, str] = field(default_factory=dict)
    seconds_to_failure: float | None = None
    #: The target waited for readiness itself (Kubernetes): no second wait is needed.
    waited: bool = False

    def action(self, name: str) -> str:
        if name in self.added:
            return "started"
        return "restarted" if name in self.changed else "unchanged"


@dataclass(frozen=True)
class Replicas:
    desired: int
    updated: int
    ready: int
    available: int


@dataclass(frozen=True)
class Autoscaler:
    name: str
    target: str
    current: int
    desired: int
    min: int
    max: int
    #: ``cpu 45% / 70%``; ``cpu ? / 70%`` while no metric is known
    metrics: list[str]


@dataclass(frozen=True)
class Budget:
    name: str
    allowed_disruptions: int
    current_healthy: int
    desired_healthy: int


@dataclass(frozen=True)
class TargetStatus:
    #: False when nothing has been deployed there (or it was stopped).
    deployed: bool
    workloads: list[WorkloadState]
    revision: int | None = None
    git_commit: str = ""
    autoscalers: list[Autoscaler] = field(default_factory=list)
    budgets: list[Budget] = field(default_factory=list)
    #: Recent warning events: ``reason Kind/name: message``
    warnings: list[str] = field(default_factory=list)


@dataclass
class HistoryEntry:
    """One deploy, rollback or forced unlock of an environment, as its journal keeps it."""

    revision: int
    #: deploy, rollback, force-unlock
    action: str
    #: succeeded; failed (and left so); rolled-back (failed, the previous revision restored);
    #: interrupted (Ctrl-C or SIGTERM mid-rollout, left as it was)
    result: str
    who: str
    started_at: str
    duration_s: float
    git_commit: str
    image_tag: str
    #: image reference per workload container (``Deployment platform-api/api`` -> ref@sha256:...)
    images: dict[str, str] = field(default_factory=dict)
    #: A rollback: the revision it went back to; a failed deploy: the revision restored.
    rolled_back_to: int | None = None
    reason: str = ""
    failure: str = ""


@dataclass(frozen=True)
class ObjectDiff:
    #: ``Kind namespace/name``
    object: str
    #: create, update, prune, unchanged
    action: str
    #: a unified diff, live -> after the deploy
    lines: list[str]


@dataclass(frozen=True)
class Disruption:
    """One instance of a workload taken down on purpose (a chaos drill's unit of harm)."""

    workload: str
    #: What was hit: ``pid 1234`` locally, a pod name on Kubernetes.
    instance: str
    how: str


@dataclass(frozen=True)
class Victim:
    """One running instance a chaos drill may take down: a supervised program, a pod."""

    #: The workload it belongs to: the program's name, a Deployment's name.
    workload: str
    #: The program's or the pod's name.
    name: str
    #: What tells this instance from its replacement: a pid, a pod's uid.
    uid: str
    ready: bool
    namespace: str = ""
    #: When it started (epoch seconds), for ``--pick oldest|newest``.
    started_at: float | None = None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VictimQuery:
    """Which instances a drill looks at: a namespace, a label selector, a workload's name."""

    namespace: str | None = None
    #: ``key=value,key2=value2``
    selector: str | None = None
    workload: str | None = None


@dataclass(frozen=True)
class DisruptionBudget:
    """A PodDisruptionBudget as a drill sees it: how much harm it allows now."""

    name: str
    selector: dict[str, str]
    allowed_disruptions: int
    current_healthy: int
    desired_healthy: int

    @property
    def headroom(self) -> int:
        return self.current_healthy - self.desired_healthy

    def covers(self, victim: Victim) -> bool:
        return bool(self.selector) and all(
            victim.labels.get(k) == v for k, v in self.selector.items()
        )


class Target(Protocol):
    """Where the platform runs. Methods raise HyperscaleError subclasses, never SDK errors."""

    @property
    def kind(self) -> str: ...

    #: Whether a deploy hands this target the rendered Kubernetes objects (DeployRequest.objects).
    takes_manifests: bool

    @property
    def description(self) -> str:
        """One line naming the place: ``supervisord on this machine``, a kubeconfig context."""
        ...

    def preflight(self) -> None:
        """Fail fast, before any change, when this target cannot be deployed to."""

    def workloads(self) -> list[Workload]:
        """What a deploy puts there."""
        ...

    def locked(self, reason: str, command: str) -> AbstractContextManager[object]:
        """Hold the environment's deploy lock for the block (a no-op where there is none)."""
        ...

    def deploy(self, progress: Progress, request: DeployRequest | None = None) -> Rollout:
        """Start or update every workload; a second run with nothing new changes nothing.

        A target that can tell a failed rollout (Kubernetes) waits for it here, names the
        failure in ``Rollout.failure`` and, unless told not to, restores the previous revision.
        """
        ...

    def wait_ready(self, timeout: float) -> list[WorkloadState]:
        """Block until every workload is ready; a failed one is named with its log."""
        ...

    def status(self) -> TargetStatus: ...

    def rollback(
        self, revision: str | None, progress: Progress | None = None, timeout_s: float = 600.0
    ) -> Rollout:
        """Go back to ``revision`` (None: the one before the current)."""
        ...

    def history(self) -> list[HistoryEntry]:
        """Every deploy and rollback recorded there, oldest first."""
        ...

    def force_unlock(self, reason: str) -> str | None:
        """Break the environment's deploy lock; who held it (None: nobody)."""
        ...

    def diff(
        self, objects: list[dict[str, Any]], progress: Progress
    ) -> tuple[list[ObjectDiff], list[str]]:
        """What a deploy of ``objects`` would change (server-side dry run), and the objects
        the target cannot take; only targets that take manifests."""
        ...

    def disrupt(self, workload: str, count: int) -> list[Disruption]:
        """Kill ``count`` running instances of ``workload`` the hard way (no graceful stop)."""
        ...

    def drill_namespace(self, requested: str | None) -> str | None:
        """The namespace a drill acts in (``requested`` or the target's own); None where
        there are no namespaces. Contacts nothing."""
        ...

    def victims(self, query: VictimQuery) -> list[Victim]:
        """The running instances ``query`` selects, ready or not, oldest first."""
        ...

    def disruption_budgets(self, namespace: str | None) -> list[DisruptionBudget]:
        """The disruption budgets there (none where there are no PDBs)."""
        ...

    def kill(
        self, victim: Victim, *, force: bool, timeout_s: float, halt: threading.Event | None = None
    ) -> Disruption:
        """Take one instance down: the polite way a budget can refuse (eviction, retried until
        ``timeout_s``, or given up once ``halt`` is set: the drill was stopped) unless
        ``force``, or where there is no such way, the hard way."""
        ...

    def deploy_holder(self) -> str | None:
        """Who holds the environment's deploy lock now (None: nobody, or no lock there)."""
        ...

    def stop(self) -> bool:
        """Take every workload down; False when nothing was running."""
        ...

    def referenced_images(self) -> dict[str, list[str]]:
        """Image reference -> what uses it there; registry cleanup never deletes these."""
        ...
