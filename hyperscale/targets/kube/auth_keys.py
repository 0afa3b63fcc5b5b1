"""The local token issuer's public keys, as the ConfigMap the API's pods mount.

Where an environment's tokens are signed on this machine (no ``auth.jwks_url``: the sandbox),
the API's Deployment mounts ``platform-auth-jwks`` (templates/kubernetes/api/deployment.yaml.j2)
and verifies tokens against the ``jwks.json`` in it. Each deploy writes it from the state
directory, where `hyperscale` keeps the issuer's key pair (hyperscale/clients/tokens.py). Public
keys only: the signing key never leaves the state directory.
"""

from __future__ import annotations

from typing import Any

from hyperscale.clients.kube_api import KubeApi
from hyperscale.clients.tokens import jwks_path
from hyperscale.config.models import Environment
from hyperscale.context import AppContext

CONFIGMAP = "platform-auth-jwks"


def jwks_configmap(env: Environment, app: AppContext) -> dict[str, Any] | None:
    """The ConfigMap, or None where the API reads an issuer's jwks_uri instead."""
    if env.auth.jwks_url:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": CONFIGMAP,
            "namespace": env.target.namespace,
            # Not the deploy label: the deploy prunes what carries it and it did not render.
            "labels": {"app.kubernetes.io/managed-by": "hyperscale"},
        },
        "data": {"jwks.json": jwks_path(app, env.name).read_text(encoding="utf-8")},
    }


def apply_jwks(api: KubeApi, env: Environment, app: AppContext) -> None:
    found = jwks_configmap(env, app)
    if found is not None:
        api.apply(found)
