"""Reconcile a cluster's ACLs with what the environment grants its identities: the one code
path of `hyperscale kafka acls apply|diff` and of `hyperscale deploy`. Never prints.

Apply order: create, then (pruning only) delete, so an identity never loses a right it keeps
(the operators' own ALTER on the cluster above all). A second apply finds nothing to do.
Without pruning an ACL the environment does not grant is kept and reported: the deploy never
takes a right away (another deployment on the same cluster may rely on it), as it never
deletes a topic.
"""

from __future__ import annotations

from hyperscale.clients.kafka.acl_admin import AclAdmin
from hyperscale.clients.kafka.config import with_bootstrap
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.kafka.acls.grants import (
    AclAction,
    desired_acls,
    managed_principals,
    plan_acls,
)
from hyperscale.kafka.acls.results import AclsResult
from hyperscale.kafka.reconcile import ReconcileRequest
from hyperscale.safety import confirm_protected


def reconcile_acls(env: Environment, app: AppContext, request: ReconcileRequest) -> AclsResult:
    """Plan the environment's grants against the cluster; apply the plan unless asked only
    for it. Only the managed principals' ACLs are read or touched."""
    request.check_prune_consent("ACLs")
    desired = desired_acls(env)
    principals = managed_principals(desired)
    env = with_bootstrap(env, request.bootstrap)
    admin = AclAdmin(env, app, timeout=request.timeout)
    plan = plan_acls(desired, admin.acls_of(principals), prune=request.prune)
    result = AclsResult(
        env.name, env.kafka.bootstrap, request.mode, request.prune, principals, plan
    )
    if not request.applying or not result.pending:
        return result
    counts = {a: sum(c.action is a for c in plan) for a in (AclAction.CREATE, AclAction.DELETE)}
    confirm_protected(
        app,
        env,
        f"create {counts[AclAction.CREATE]} and delete {counts[AclAction.DELETE]} Kafka ACLs",
        yes=request.yes,
    )
    admin.create_acls([c.rule for c in plan if c.action is AclAction.CREATE])
    admin.delete_acls([c.rule for c in plan if c.action is AclAction.DELETE])
    return result
