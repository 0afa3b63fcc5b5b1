"""The platform's Secrets written straight from the environment's references, where no External
Secrets Operator fills them (the sandbox): a pod on the sandbox's real node mounts them for real.

They are applied beside a deploy, never recorded in its journal (a revision is a ConfigMap:
no secret value may end up in one), and only for references resolved on this machine
(``env``, ``file``, ``generated``); a Secrets Manager reference stays the operator's job.
"""

from __future__ import annotations

import base64
from typing import Any

from hyperscale.clients.kube_api import KubeApi
from hyperscale.clients.secrets import resolve_secret
from hyperscale.config.models import Environment, service_secret_refs
from hyperscale.context import AppContext
from hyperscale.targets.kube.objects import DEPLOY_LABEL

EXTERNAL_SECRET = ("external-secrets.io/v1", "ExternalSecret")


def needed(api: KubeApi) -> bool:
    """True where the cluster serves no ExternalSecret (nobody else would write them)."""
    return api.resource(*EXTERNAL_SECRET) is None


def secret_objects(env: Environment, app: AppContext) -> list[dict[str, Any]]:
    objects = []
    for name, key, _, ref in service_secret_refs(env):
        if ref.aws_secret:
            continue
        value = resolve_secret(app, ref)
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "Opaque",
                "metadata": {
                    "name": name,
                    "namespace": env.target.namespace,
                    "labels": {DEPLOY_LABEL: env.name},
                    "annotations": {"hyperscale.dev/source": ref.describe()},
                },
                "data": {key: base64.b64encode(value.encode()).decode()},
            }
        )
    return objects


def apply_direct_secrets(api: KubeApi, env: Environment, app: AppContext) -> list[str]:
    """Apply them where needed; the names written."""
    if not needed(api):
        return []
    written = []
    for obj in secret_objects(env, app):
        api.apply(obj)
        written.append(obj["metadata"]["name"])
    return written
