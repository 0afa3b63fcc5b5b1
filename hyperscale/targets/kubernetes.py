"""The Kubernetes target: a kubeconfig context (the sandbox cluster here, EKS for staging and
prod). A deploy applies the rendered objects in waves, waits like kstatus, names a failure as it
shows, rolls back to the previous revision of the journal, and does all that under the
environment's Lease. The parts live in hyperscale.targets.kube."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

from hyperscale.clients.kube_api import ApiConflictError, KubeApi
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.progress import Progress, quiet
from hyperscale.targets.base import (
    DeployRequest,
    Disruption,
    DisruptionBudget,
    HistoryEntry,
    ObjectDiff,
    Rollout,
    TargetStatus,
    Victim,
    VictimQuery,
    Workload,
    WorkloadState,
)
from hyperscale.targets.kube import lock
from hyperscale.targets.kube.apply import ApplyOutcome, apply_all, diff_all
from hyperscale.targets.kube.auth_keys import apply_jwks
from hyperscale.targets.kube.direct_secrets import apply_direct_secrets
from hyperscale.targets.kube.journal import Journal
from hyperscale.targets.kube.objects import DEPLOY_LABEL, images
from hyperscale.targets.kube.readiness import WaitOutcome, wait_for
from hyperscale.targets.kube.status import read_status


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A CI job cancelled (SIGTERM) leaves the lock like Ctrl-C does: released on the way out."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _deployments(outcome: ApplyOutcome) -> list[tuple[str, str]]:
    return sorted(
        (obj["metadata"]["namespace"], obj["metadata"]["name"])
        for obj in outcome.live.values()
        if obj["kind"] == "Deployment"
    )


def _names(described: list[str], kind: str = "Deployment") -> list[str]:
    """``platform-api`` of ``Deployment hyperscale/platform-api``."""
    return [d.rsplit("/", 1)[-1] for d in described if d.startswith(f"{kind} ")]


class KubernetesTarget:
    kind = "kubernetes"
    #: A deploy applies the rendered manifests (images pinned) here.
    takes_manifests = True

    def __init__(self, env: Environment, app: AppContext) -> None:
        self.env = env
        self.app = app
        self.namespace = env.target.namespace

    @property
    def description(self) -> str:
        target = self.env.target
        return f"kubeconfig context {target.context}, namespace {target.namespace}"

    def _kubeconfig(self) -> Path:
        default = self.app.environ.get("KUBECONFIG", "~/.kube/config")
        return self.app.expand_path(self.env.target.kubeconfig or default)

    def api(self) -> KubeApi:
        return KubeApi(self._kubeconfig(), self.env.target.context or "")

    def referenced_images(self) -> dict[str, list[str]]:
        from hyperscale.clients.kube import referenced_images

        return referenced_images(self._kubeconfig(), self.env.target.context or "")

    def preflight(self) -> None:
        """The API server answers (and serves Deployments) before anything is changed."""
        with self.api() as api:
            api.resource("apps/v1", "Deployment")

    def workloads(self) -> list[Workload]:
        """The API and the consumers, as an operator reaches them: through the ingress and the
        consumers' service (the environment's services URLs), whatever the replica count."""
        services = self.env.services
        api = str(services.api_url).rstrip("/")
        metrics = urlsplit(str(services.consumer_metrics_url))
        consumer_health = urlunsplit((metrics.scheme, metrics.netloc, "/healthz", "", ""))
        return [
            Workload("api", "api", api, f"{api}/readyz"),
            Workload("consumer", "consumer", str(services.consumer_metrics_url), consumer_health),
        ]

    # -- the lock ------------------------------------------------------------------------------

    @contextmanager
    def _locked(self, reason: str, command: str) -> Iterator[object]:
        with self.api() as api:
            # The Lease lives in the namespace: on a first deploy it must exist before the lock.
            # Created, never applied: an apply as `hyperscale` with fewer fields than the
            # templates would take the others away (and the deploy would put them back).
            if api.get("v1", "Namespace", self.namespace) is None:
                with contextlib.suppress(ApiConflictError):  # created meanwhile
                    api.create(
                        {
                            "apiVersion": "v1",
                            "kind": "Namespace",
                            "metadata": {
                                "name": self.namespace,
                                "labels": {DEPLOY_LABEL: self.env.name},
                            },
                        }
                    )
            with _sigterm_as_interrupt(), lock.locked(api, self.namespace, reason, command) as held:
                yield held

    def locked(self, reason: str, command: str) -> AbstractContextManager[object]:
        return self._locked(reason, command)

    def force_unlock(self, reason: str) -> str | None:
        with self.api() as api:
            holder = lock.force_unlock(api, self.namespace)
            if holder is not None:
                entry = self._entry(0, "force-unlock", "succeeded", time.monotonic(), reason=reason)
                entry.failure = f"broke the lock of {holder.holder} (since {holder.since})"
                Journal(api, self.namespace).append(entry)
            return holder.holder if holder else None

    # -- deploy, rollback ----------------------------------------------------------------------

    def _entry(
        self,
        revision: int,
        action: str,
        result: str,
        started: float,
        *,
        request: DeployRequest | None = None,
        objects: list[dict[str, Any]] | None = None,
        reason: str = "",
    ) -> _Entry:
        return _Entry(
            revision=revision,
            action=action,
            result=result,
            who=lock.whoami(),
            started_at=(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=time.monotonic() - started))
            .replace(microsecond=0)
            .isoformat(),
            duration_s=round(time.monotonic() - started, 2),
            git_commit=request.git_commit if request else "",
            image_tag=request.image_tag if request else "",
            images=images(objects or []),
            reason=reason or (request.reason if request else ""),
        )

    def deploy(self, progress: Progress, request: DeployRequest | None = None) -> Rollout:
        request = request or DeployRequest()
        started = time.monotonic()
        with self.api() as api:
            journal = Journal(api, self.namespace)
            current = journal.current()
            previous = journal.objects(current.revision) if current else []
            revision = journal.next_revision()
            try:
                outcome = apply_all(
                    api,
                    self.env.name,
                    request.objects,
                    previous,
                    progress,
                    after_first_wave=lambda: self._after_namespaces(api),
                )
                progress(f"waiting for {len(_deployments(outcome))} workloads")
                waited = wait_for(api, _deployments(outcome), request.timeout_s, progress)
            except KeyboardInterrupt:
                # Ctrl-C or SIGTERM mid-rollout: the journal says so before the lock goes.
                entry = self._entry(
                    revision,
                    "deploy",
                    "interrupted",
                    started,
                    request=request,
                    objects=request.objects,
                )
                entry.failure = "interrupted (Ctrl-C or SIGTERM) before the rollout finished"
                journal.append(entry)
                raise
            entry = self._entry(
                revision, "deploy", "succeeded", started, request=request, objects=request.objects
            )
            if waited.ready:
                journal.save_objects(revision, request.objects)
                journal.append(entry.done())
                return _rollout(outcome, revision, entry.images)
            failure = waited.failure
            if failure is None:  # not ready means a named failure; never reached otherwise
                raise UsageError("the rollout neither became ready nor failed")
            progress(f"failed: {failure.summary()}")
            restored: WaitOutcome | None = None
            if request.rollback_on_failure and current is not None:
                progress(f"rolling back to revision {current.revision}")
                back = apply_all(api, self.env.name, previous, request.objects, progress)
                restored = wait_for(api, _deployments(back), request.timeout_s, progress)
            entry.result = "rolled-back" if restored is not None else "failed"
            entry.rolled_back_to = current.revision if restored is not None and current else None
            entry.failure = failure.summary()
            journal.append(entry.done(started))
            rollout = _rollout(outcome, revision, entry.images)
            return _failed(rollout, waited, restored, entry.rolled_back_to)

    def rollback(
        self, revision: str | None, progress: Progress | None = None, timeout_s: float = 600.0
    ) -> Rollout:
        progress = progress or quiet
        started = time.monotonic()
        with self.api() as api:
            journal = Journal(api, self.namespace)
            current = journal.current()
            good = [
                e
                for e in journal.entries()
                if e.result == "succeeded" and e.action != "force-unlock"
            ]
            if revision is not None:
                wanted = next((e for e in good if str(e.revision) == revision.lstrip("r")), None)
                if wanted is None:
                    known = ", ".join(str(e.revision) for e in good) or "none"
                    raise UsageError(
                        f"no revision {revision} that succeeded in {self.namespace}",
                        hint=f"revisions that can be restored: {known}",
                    )
            else:
                # After a failure left as it is (--no-rollback), the last good revision is the
                # one to go back to; otherwise the good one before it.
                changes = [e for e in journal.entries() if e.action != "force-unlock"]
                left_failed = bool(changes) and changes[-1].result in ("failed", "interrupted")
                earlier = [
                    e
                    for e in good
                    if current is None
                    or e.revision < current.revision
                    or (left_failed and e.revision == current.revision)
                ]
                if not earlier:
                    raise UsageError(
                        f"{self.env.name} has no earlier revision to roll back to",
                        hint=f"`hyperscale deploy history --env {self.env.name}`",
                    )
                wanted = earlier[-1]
            objects = journal.objects(wanted.revision)
            now = journal.objects(current.revision) if current else []
            new_revision = journal.next_revision()
            outcome = apply_all(api, self.env.name, objects, now, progress)
            waited = wait_for(api, _deployments(outcome), timeout_s, progress)
            request = DeployRequest(git_commit=wanted.git_commit, image_tag=wanted.image_tag)
            entry = self._entry(
                new_revision, "rollback", "succeeded", started, request=request, objects=objects
            )
            entry.rolled_back_to = wanted.revision
            if waited.ready:
                journal.save_objects(new_revision, objects)
            else:
                entry.result = "failed"
                entry.failure = waited.failure.summary() if waited.failure else ""
            journal.append(entry.done(started))
            rollout = _rollout(outcome, new_revision, entry.images)
            if waited.ready:
                return rollout
            return _failed(rollout, waited, None, None)

    def _after_namespaces(self, api: KubeApi) -> None:
        """What the workloads mount that the rendered manifests cannot carry: the Secrets
        (where no operator writes them) and the local issuer's public keys."""
        apply_direct_secrets(api, self.env, self.app)
        apply_jwks(api, self.env, self.app)

    def wait_ready(self, timeout: float) -> list[WorkloadState]:
        """Every deployed workload current (kstatus), or a named failure in the details."""
        with self.api() as api:
            found = api.list_objects(
                "apps/v1", "Deployment", self.namespace, labels=f"{DEPLOY_LABEL}={self.env.name}"
            )
            targets = [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in found]
            waited = wait_for(api, targets, timeout, quiet)
        if waited.failure is not None:
            from hyperscale.errors import CheckFailedError

            lines = waited.failure.lines()
            raise CheckFailedError(lines[0], details=lines[1:])
        return self.status().workloads

    def status(self) -> TargetStatus:
        with self.api() as api:
            return read_status(api, self.namespace, self.env.name)

    def history(self) -> list[HistoryEntry]:
        with self.api() as api:
            return Journal(api, self.namespace).entries()

    def diff(
        self, objects: list[dict[str, Any]], progress: Progress
    ) -> tuple[list[ObjectDiff], list[str]]:
        """What a deploy of ``objects`` would change (a server-side dry run), drift included."""
        with self.api() as api:
            return diff_all(api, self.env.name, objects, progress)

    def _not_built(self, what: str) -> NoReturn:
        raise UsageError(
            f"{what} on a kubernetes target ({self.env.name}: {self.description}) is not"
            " available yet",
            hint="the chaos drills come with their own issue",
        )

    def disrupt(self, workload: str, count: int) -> list[Disruption]:
        """Delete ``count`` pods of Deployment ``workload`` in the target's namespace."""
        pods = [v for v in self.victims(VictimQuery()) if v.workload == workload]
        return [self.kill(v, force=True, timeout_s=0) for v in pods[:count]]

    def drill_namespace(self, requested: str | None) -> str | None:
        """The namespace asked for, else the environment's own."""
        return requested or self.namespace

    def victims(self, query: VictimQuery) -> list[Victim]:
        from hyperscale.clients.kube_pods import list_pods

        namespace = query.namespace or self.namespace
        with self.api() as api:
            pods = list_pods(api, namespace, query.selector)
        return [
            Victim(p.owner, p.name, p.uid, p.ready, p.namespace, p.created_at, p.labels)
            for p in pods
            if not query.workload or p.owner == query.workload
        ]

    def disruption_budgets(self, namespace: str | None) -> list[DisruptionBudget]:
        from hyperscale.clients.kube_pods import list_budgets

        with self.api() as api:
            found = list_budgets(api, namespace or self.namespace)
        return [
            DisruptionBudget(
                b.name,
                b.match_labels,
                b.allowed_disruptions,
                b.current_healthy,
                b.desired_healthy,
            )
            for b in found
        ]

    def kill(
        self, victim: Victim, *, force: bool, timeout_s: float, halt: threading.Event | None = None
    ) -> Disruption:
        """Evict (a budget's 429 is waited on and retried until ``timeout_s``, or until
        ``halt`` is set: the drill was stopped), or with ``force`` delete with a one-second
        grace period."""
        from hyperscale.targets.kube.disruption import disrupt_pod

        namespace = victim.namespace or self.namespace
        with self.api() as api:
            return disrupt_pod(
                api,
                namespace,
                victim,
                force=force,
                timeout_s=timeout_s,
                halt=halt or threading.Event(),
            )

    def deploy_holder(self) -> str | None:
        with self.api() as api:
            holder = lock.current_holder(api, self.namespace)
        if holder is None:
            return None
        return f"{holder.holder} since {holder.since} ({holder.command}: {holder.reason})"

    def stop(self) -> bool:
        self._not_built("stopping the workloads")


class _Entry(HistoryEntry):
    """A journal entry being written: its duration is set when it is done."""

    def done(self, started: float | None = None) -> _Entry:
        if started is not None:
            self.duration_s = round(time.monotonic() - started, 2)
        return self


def _rollout(outcome: ApplyOutcome, revision: int, pinned: dict[str, str]) -> Rollout:
    return Rollout(
        added=_names(outcome.added),
        changed=_names(outcome.changed),
        removed=_names(outcome.pruned),
        revision=revision,
        objects_added=outcome.added,
        objects_changed=outcome.changed,
        objects_unchanged=len(outcome.unchanged),
        objects_pruned=outcome.pruned,
        objects_skipped=outcome.skipped,
        images=pinned,
        waited=True,
    )


def _failed(
    rollout: Rollout, waited: WaitOutcome, restored: WaitOutcome | None, back_to: int | None
) -> Rollout:
    from dataclasses import replace

    failure = waited.failure
    return replace(
        rollout,
        failure=failure.lines() if failure else [],
        failure_named=failure.to_data() if failure else {},
        seconds_to_failure=failure.after_s if failure else None,
        rolled_back_to=back_to,
        rollback_ready=restored.ready if restored is not None else None,
    )
