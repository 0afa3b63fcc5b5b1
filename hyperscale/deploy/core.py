"""Deploy the platform to an environment's target and report what runs there.

The steps every target shares (the schema, the topics) are done here; the workloads are the
target's business, behind hyperscale.targets.base.Target.
"""

from __future__ import annotations

import time

from hyperscale.clients.mysql import apply_migrations
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.deploy.results import DeployResult, ProgramOutcome, StatusResult
from hyperscale.errors import ConfigError
from hyperscale.kafka.topics.core import TopicsRequest, reconcile_topics
from hyperscale.kafka.topics.plan import TopicAction
from hyperscale.progress import Progress, quiet
from hyperscale.safety import confirm_protected
from hyperscale.targets import for_env

#: How long the workloads may take to answer their readiness checks after a deploy.
READY_TIMEOUT_S = 60.0


def deploy(
    env: Environment, app: AppContext, progress: Progress = quiet, *, yes: bool = False
) -> DeployResult:
    """Schema, topics, workloads, readiness; a second run with nothing new changes nothing.

    A protected environment is confirmed once, here, before the first change: no step asks
    again halfway through.
    """
    target = for_env(env, app)
    target.preflight()
    confirm_protected(app, env, "deploy the platform", yes=yes)
    started = time.monotonic()
    progress("applying the schema")
    migrations = apply_migrations(env, app, app.services_dir / "schema" / "migrations")
    progress("reconciling the topics with templates/kafka/topics.yaml.j2")
    created = _reconcile_topics(env, app)
    rollout = target.deploy(progress)
    progress("waiting until every workload is ready")
    states = {s.name: s for s in target.wait_ready(READY_TIMEOUT_S)}
    outcomes = [
        ProgramOutcome(
            name=w.name,
            action=rollout.action(w.name),
            pid=states[w.name].pid if w.name in states else None,
            address=w.address,
            ready=True,  # wait_ready returned: every workload answered its readiness check
        )
        for w in target.workloads()
    ]
    return DeployResult(
        environment=env.name,
        target=target.kind,
        migrations_applied=migrations.applied,
        schema_revision=migrations.after,
        topics_created=created,
        programs=outcomes,
        removed_programs=rollout.removed,
        seconds=round(time.monotonic() - started, 2),
    )


def _reconcile_topics(env: Environment, app: AppContext) -> list[str]:
    """`kafka topics apply` without prune: create, add partitions, set configs; the names of
    the topics created. What Kafka cannot do (fewer partitions...) stops the deploy."""
    topics = reconcile_topics(env, app, TopicsRequest(yes=True))  # confirmed above
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
    outcomes = [
        ProgramOutcome(
            name=w.name,
            action=w.state,
            pid=w.pid,
            address=w.address,
            ready=w.ready,
            uptime_s=w.uptime_s,
            detail=w.detail,
        )
        for w in current.workloads
    ]
    return StatusResult(env.name, target.kind, deployed=current.deployed, programs=outcomes)
