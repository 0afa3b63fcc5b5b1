"""Reconcile an environment's topics with its template: the one code path of
`hyperscale kafka topics apply|diff` and of `hyperscale deploy`. Never prints.

Apply order: create, add partitions, set configs, then (with prune only) delete. A run that
changed something leaves nothing for the next one to do (the configs it set are the topic's
explicit values the next plan compares with), so a second apply reports "in sync".
"""

from __future__ import annotations

from hyperscale.clients.kafka.config import with_bootstrap
from hyperscale.clients.kafka.topic_admin import TopicAdmin
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.kafka.reconcile import ReconcileRequest
from hyperscale.kafka.topics.plan import TopicAction, TopicDiff, config_updates, plan_topics
from hyperscale.kafka.topics.results import TopicsResult
from hyperscale.kafka.topics.template import TopicsTemplate, topics_template
from hyperscale.safety import confirm_protected


def reconcile_topics(
    env: Environment,
    app: AppContext,
    request: ReconcileRequest,
    template: TopicsTemplate | None = None,
) -> TopicsResult:
    """Plan the template against the cluster, and apply the plan unless asked only for it."""
    request.check_prune_consent("topics")
    wanted = template if template is not None else topics_template(env, app)
    env = with_bootstrap(env, request.bootstrap)
    admin = TopicAdmin(env, app, timeout=request.timeout)
    live = admin.live_topics()
    existing = [t.name for t in wanted.topics if t.name in live]
    plan = plan_topics(wanted, live, admin.configs(existing), prune=request.prune)
    result = TopicsResult(env.name, env.kafka.bootstrap, request.mode, request.prune, plan)
    if not request.applying or not result.pending:
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
