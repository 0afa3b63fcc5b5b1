"""Deploy the platform to an environment's target and report what runs there."""

from __future__ import annotations

import time

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.deploy.local import HTTP_OK, LocalPlatform, http_status
from hyperscale.deploy.migrations import apply_migrations
from hyperscale.deploy.results import DeployResult, ProgramOutcome, StatusResult
from hyperscale.errors import ConfigError, UsageError
from hyperscale.kafka.topics.core import TopicsRequest, reconcile_topics
from hyperscale.kafka.topics.plan import TopicAction
from hyperscale.progress import Progress, quiet


def _local_only(env: Environment) -> None:
    if env.target.kind != "local":
        raise UsageError(
            f"deploying to a {env.target.kind} target ({env.name}) is not available yet;"
            " only the local target can be deployed",
            hint="use --env local",
        )


def deploy(env: Environment, app: AppContext, progress: Progress = quiet) -> DeployResult:
    """Schema, topics, programs, readiness; a second run with nothing new changes nothing."""
    _local_only(env)
    started = time.monotonic()
    progress("applying the schema")
    migrations = apply_migrations(env, app)
    progress("reconciling the topics with templates/kafka/topics.yaml.j2")
    created = _reconcile_topics(env, app)
    platform = LocalPlatform(env, app)
    programs = platform.programs()
    progress("starting or updating the programs under supervisord")
    changes = platform.apply(programs)
    progress("waiting until every program is ready")
    platform.wait_ready(programs)
    pids = {info.name: info.pid for info in platform.supervisor.programs()}
    outcomes = [
        ProgramOutcome(
            name=p.name,
            action=_action(p.name, changes.added, changes.changed),
            pid=pids.get(p.name),
            address=p.address,
            ready=True,
        )
        for p in programs
    ]
    return DeployResult(
        environment=env.name,
        target=env.target.kind,
        migrations_applied=migrations.applied,
        schema_revision=migrations.after,
        topics_created=created,
        programs=outcomes,
        removed_programs=changes.removed,
        seconds=round(time.monotonic() - started, 2),
    )


def _reconcile_topics(env: Environment, app: AppContext) -> list[str]:
    """`kafka topics apply` without prune: create, add partitions, set configs; the names of
    the topics created. What Kafka cannot do (fewer partitions...) stops the deploy."""
    topics = reconcile_topics(env, app, TopicsRequest())
    if topics.refused:
        first = topics.refused[0]
        raise ConfigError(
            f"templates/kafka/topics.yaml.j2: {first.name}: {first.refused[0]}",
            hint=f"see `hyperscale kafka topics diff --env {env.name}`",
        )
    return topics.names(TopicAction.CREATE)


def _action(name: str, added: list[str], changed: list[str]) -> str:
    if name in added:
        return "started"
    return "restarted" if name in changed else "unchanged"


def status(env: Environment, app: AppContext) -> StatusResult:
    _local_only(env)
    platform = LocalPlatform(env, app)
    if not platform.supervisor.running():
        return StatusResult(env.name, env.target.kind, deployed=False, programs=[])
    wanted = {p.name: p for p in platform.programs()}
    now = time.time()
    outcomes = []
    for info in platform.supervisor.programs():
        program = wanted.get(info.name)
        code = http_status(program.ready_url) if program and info.state == "RUNNING" else None
        outcomes.append(
            ProgramOutcome(
                name=info.name,
                action=info.state.lower(),
                pid=info.pid,
                address=program.address if program else "-",
                ready=code == HTTP_OK,
                uptime_s=round(now - info.started_at, 1) if info.started_at and info.pid else None,
                detail="" if code == HTTP_OK else f"readiness answered {code or 'nothing'}",
            )
        )
    return StatusResult(env.name, env.target.kind, deployed=True, programs=outcomes)
