"""Deploy the platform to an environment's target and report what runs there.

The steps every target shares (the schema, the topics) are done here; the workloads are the
target's business, behind hyperscale.targets.base.Target.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from hyperscale.clients.mysql import apply_migrations
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.deploy.results import (
    DeployResult,
    HistoryResult,
    PlanResult,
    ProgramOutcome,
    StatusResult,
    UnlockResult,
)
from hyperscale.errors import ConfigError, UsageError
from hyperscale.kafka.acls.core import reconcile_acls
from hyperscale.kafka.reconcile import ReconcileRequest
from hyperscale.kafka.topics.core import reconcile_topics
from hyperscale.kafka.topics.plan import TopicAction
from hyperscale.progress import Progress, quiet
from hyperscale.safety import confirm_protected
from hyperscale.targets import for_env
from hyperscale.targets.base import DeployRequest, Rollout, Target, WorkloadState

if TYPE_CHECKING:
    from hyperscale.deploy.images import PinnedImages

#: How long the workloads may take to answer their readiness checks after a deploy.
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DeployOptions:
    """What `hyperscale deploy` takes beyond the environment."""

    image_tag: str | None = None
    timeout_s: float = 600.0
    rollback: bool = True
    reason: str = ""


def _request(
    env: Environment, app: AppContext, target: Target, options: DeployOptions, progress: Progress
) -> tuple[DeployRequest, PinnedImages | None]:
    """The rendered objects with pinned images, for targets that apply manifests."""
    if not target.takes_manifests:
        return DeployRequest(timeout_s=options.timeout_s, reason=options.reason), None
    from hyperscale.deploy.images import pin_images
    from hyperscale.render.objects import rendered_objects

    objects = rendered_objects(env, app, progress)
    pinned_objects, pinned = pin_images(env, app, objects, options.image_tag)
    return (
        DeployRequest(
            objects=pinned_objects,
            git_commit=pinned.git_commit,
            image_tag=pinned.tag,
            timeout_s=options.timeout_s,
            rollback_on_failure=options.rollback,
            reason=options.reason,
        ),
        pinned,
    )


def deploy(
    env: Environment,
    app: AppContext,
    progress: Progress = quiet,
    *,
    yes: bool = False,
    options: DeployOptions | None = None,
) -> DeployResult:
    """Schema, topics, workloads, readiness; a second run with nothing new changes nothing.

    A protected environment is confirmed once, here, before the first change: no step asks
    again halfway through. The whole deploy holds the environment's lock (Kubernetes).
    """
    options = options or DeployOptions()
    target = for_env(env, app)
    # Refused before anything is contacted, let alone changed; then fail fast on the target.
    confirm_protected(app, env, "deploy the platform", yes=yes)
    target.preflight()
    started = time.monotonic()
    request, pinned = _request(env, app, target, options, progress)
    command = f"hyperscale deploy --env {env.name}"
    with target.locked(options.reason or "deploy", command):
        acls = " and the services' ACLs" if env.kafka.services else ""
        progress(f"applying the schema; reconciling the topics (templates/kafka){acls}")
        # Independent of each other (MySQL, Kafka): both at once, both before the workloads.
        with ThreadPoolExecutor(max_workers=2) as pool:
            schema = pool.submit(
                apply_migrations, env, app, app.services_dir / "schema" / "migrations"
            )
            kafka = pool.submit(_reconcile_kafka, env, app)
            migrations, (created, acl_changes) = schema.result(), kafka.result()
        rollout = target.deploy(progress, request)
        if rollout.failure or rollout.waited:
            states = target.status().workloads
        else:
            progress("waiting until every workload is ready")
            states = target.wait_ready(READY_TIMEOUT_S)
    return DeployResult(
        environment=env.name,
        target=target.kind,
        migrations_applied=migrations.applied,
        schema_revision=migrations.after,
        topics_created=created,
        acl_changes=acl_changes,
        programs=[_outcome(s, rollout.action(s.name)) for s in states],
        removed_programs=rollout.removed,
        seconds=round(time.monotonic() - started, 2),
        **_rollout_fields(rollout),
        git_commit=pinned.git_commit if pinned else "",
        image_tag=pinned.tag if pinned else "",
    )


def _outcome(state: WorkloadState, action: str) -> ProgramOutcome:
    return ProgramOutcome(
        name=state.name,
        action=action,
        pid=state.pid,
        address=state.address,
        ready=state.ready,
        uptime_s=state.uptime_s,
        detail=state.detail,
        replicas=asdict(state.replicas) if state.replicas else None,
        images=state.images,
    )


def _rollout_fields(rollout: Rollout) -> dict[str, Any]:
    objects: dict[str, Any] = {}
    if rollout.revision is not None:
        objects = {
            "added": rollout.objects_added,
            "changed": rollout.objects_changed,
            "unchanged": rollout.objects_unchanged,
            "pruned": rollout.objects_pruned,
            "skipped": rollout.objects_skipped,
        }
    return {
        "revision": rollout.revision,
        "images": rollout.images,
        "objects": objects,
        "failure": rollout.failure,
        "failure_named": rollout.failure_named,
        "seconds_to_failure": rollout.seconds_to_failure,
        "rolled_back_to": rollout.rolled_back_to,
        "rollback_ready": rollout.rollback_ready,
    }


def rollback(
    env: Environment,
    app: AppContext,
    progress: Progress = quiet,
    *,
    to: str | None = None,
    yes: bool = False,
    timeout_s: float = 600.0,
) -> DeployResult:
    """Back to a revision of the journal (default: the one before the current), waited for."""
    target = for_env(env, app)
    confirm_protected(
        app, env, f"roll back to {'revision ' + to if to else 'the previous revision'}", yes=yes
    )
    target.preflight()
    started = time.monotonic()
    with target.locked(f"rollback to {to or 'previous'}", f"hyperscale rollback --env {env.name}"):
        rollout = target.rollback(to, progress, timeout_s)
        states = target.status().workloads
    fields = _rollout_fields(rollout)
    return DeployResult(
        environment=env.name,
        target=target.kind,
        migrations_applied=[],
        schema_revision=None,
        topics_created=[],
        programs=[_outcome(s, rollout.action(s.name)) for s in states],
        removed_programs=rollout.removed,
        seconds=round(time.monotonic() - started, 2),
        action="rollback",
        **fields,
    )


def plan(
    env: Environment, app: AppContext, progress: Progress = quiet, *, image_tag: str | None = None
) -> PlanResult:
    """`deploy --dry-run`: render, pin, and a server-side dry run of every object; no change,
    so no confirmation and no lock."""
    target = for_env(env, app)
    if not target.takes_manifests:
        raise UsageError(
            f"--dry-run needs a Kubernetes target; {env.name} runs under supervisord here",
            hint=f"`hyperscale status --env {env.name}` shows what runs",
        )
    target.preflight()
    request, pinned = _request(env, app, target, DeployOptions(image_tag=image_tag), progress)
    diffs, skipped = target.diff(request.objects, progress)
    return PlanResult(
        environment=env.name,
        target=target.kind,
        image_tag=pinned.tag if pinned else "",
        images=pinned.refs if pinned else {},
        objects=[asdict(d) for d in diffs],
        skipped=skipped,
    )


def history(env: Environment, app: AppContext) -> HistoryResult:
    target = for_env(env, app)
    return HistoryResult(env.name, target.kind, [asdict(e) for e in target.history()])


def force_unlock(
    env: Environment, app: AppContext, reason: str, *, yes: bool = False
) -> UnlockResult:
    if not reason.strip():
        raise UsageError(
            "--force-unlock needs --reason: the journal records why the lock was broken"
        )
    target = for_env(env, app)
    confirm_protected(app, env, "break the deploy lock", yes=yes)
    return UnlockResult(env.name, target.force_unlock(reason), reason)


def _reconcile_kafka(env: Environment, app: AppContext) -> tuple[list[str], list[str]]:
    """The topics (created), then, when the services have identities of their own, their
    ACLs (`kafka acls apply`; the changes made), before any workload starts with them."""
    created = _reconcile_topics(env, app)
    if env.kafka.services is None:
        return created, []
    acls = reconcile_acls(env, app, ReconcileRequest(yes=True))  # confirmed above
    return created, [f"{c.action.value} {c.rule.describe()}" for c in acls.pending]


def _reconcile_topics(env: Environment, app: AppContext) -> list[str]:
    """`kafka topics apply` without prune: create, add partitions, set configs; the names of
    the topics created. What Kafka cannot do (fewer partitions...) stops the deploy."""
    topics = reconcile_topics(env, app, ReconcileRequest(yes=True))  # confirmed above
    if topics.refused:
        first = topics.refused[0]
        raise ConfigError(
            f"templates/kafka/topics.yaml.j2: {first.name}: {first.refused[0]}",
            hint=f"see `hyperscale kafka topics diff --env {env.name}`",
        )
    return topics.names(TopicAction.CREATE)


def status(env: Environment, app: AppContext) -> StatusResult:
    target = for_env(env, app)
    current = target.status()
    return StatusResult(
        env.name,
        target.kind,
        deployed=current.deployed,
        programs=[_outcome(w, w.state) for w in current.workloads],
        revision=current.revision,
        git_commit=current.git_commit,
        autoscalers=[asdict(a) for a in current.autoscalers],
        budgets=[asdict(b) for b in current.budgets],
        warnings=current.warnings,
    )
