"""Reconcile an environment's topics with its template: the one code path of
`hyperscale kafka topics apply|diff` and of `hyperscale deploy`. Never prints.

Apply order: create, add partitions, set configs, then (with prune only) delete. A run that
changed something leaves nothing for the next one to do (the configs it set are the topic's
explicit values the next plan compares with), so a second apply reports "in sync".
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperscale.clients.kafka.config import with_bootstrap
from hyperscale.clients.kafka.topic_admin import TopicAdmin
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.kafka.topics.plan import TopicAction, TopicDiff, config_updates, plan_topics
from hyperscale.kafka.topics.results import TopicsMode, TopicsResult
from hyperscale.kafka.topics.template import TopicsTemplate, topics_template
from hyperscale.safety import confirm_protected


@dataclass(frozen=True)
class TopicsRequest:
    mode: TopicsMode = TopicsMode.APPLY
    #: Delete managed topics that the template no longer lists (needs ``yes`` to apply).
    prune: bool = False
    #: Consent given on the command line: for --prune, and for a protected environment.
    yes: bool = False
    bootstrap: str | None = None
    timeout: float = 10.0


def reconcile_topics(
    env: Environment,
    app: AppContext,
    request: TopicsRequest,
    template: TopicsTemplate | None = None,
) -> TopicsResult:
    """Plan the template against the cluster, and apply the plan unless asked only for it."""
    applying = request.mode is TopicsMode.APPLY
    if request.prune and applying and not request.yes:
        raise UsageError(
            "--prune deletes topics: it needs --yes",
            hint="see what it would delete with --prune --dry-run",
        )
    wanted = template if template is not None else topics_template(env, app)
    env = with_bootstrap(env, request.bootstrap)
    admin = TopicAdmin(env, app, timeout=request.timeout)
    live = admin.live_topics()
    existing = [t.name for t in wanted.topics if t.name in live]
    plan = plan_topics(wanted, live, admin.configs(existing), prune=request.prune)
    result = TopicsResult(env.name, env.kafka.bootstrap, request.mode, request.prune, plan)
    if not applying or not result.pending:
        return result
    changes = ", ".join(f"{d.action.value} {d.name}" for d in result.pending)
    confirm_protected(app, env, f"change topics ({changes})", yes=request.yes)
    _execute(admin, wanted, plan)
    return result


def _execute(admin: TopicAdmin, template: TopicsTemplate, plan: list[TopicDiff]) -> None:
    created = {d.name for d in plan if d.action is TopicAction.CREATE}
    admin.create([spec.new_topic() for spec in template.topics if spec.name in created])
    admin.add_partitions({d.name: d.partitions[1] or 0 for d in plan if d.adds_partitions})
    admin.set_configs(config_updates(plan))
    admin.delete([d.name for d in plan if d.action is TopicAction.DELETE])
