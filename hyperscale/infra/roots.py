"""Render an environment's Terraform roots (one per component) and its stack.yaml.

The rendered roots are committed under ``terraform/live/<env>/`` so reviewers see exactly
what `hyperscale infra` will run. Modules are referenced as ``../../../modules/<name>``,
which resolves from that place; render elsewhere only to compare with the committed files.
"""

from __future__ import annotations

from pathlib import Path

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.templating import render

_TEMPLATES = "terraform"
_PER_ROOT = {"backend.tf": "backend.tf.j2", "providers.tf": "providers.tf.j2"}

#: The provider's endpoint names of every AWS service terraform/modules call (a test checks
#: each resource type of the modules against it): against a local endpoint, every one is
#: pointed there, so no call can reach real AWS.
ENDPOINT_SERVICES = (
    "cloudfront", "ec2", "eks", "elasticache", "iam", "kafka", "kms", "logs", "rds",
    "secretsmanager", "sts", "wafv2",
)  # fmt: skip


def local_endpoint(env: Environment) -> str | None:
    """The local AWS endpoint (moto) the roots talk to, or None for a real account."""
    if env.aws.endpoint_url is None:
        return None
    return str(env.aws.endpoint_url).rstrip("/")


def render_terraform_roots(env: Environment, app: AppContext, out_dir: Path) -> list[Path]:
    """Write ``out_dir/stack.yaml`` and ``out_dir/<component>/*.tf``; return the files written.

    An environment without an ``infra:`` section (local, sandbox: no AWS account) has no roots:
    nothing is written and the list is empty. Files are rewritten only when their text changes.
    """
    if env.infra is None:
        return []
    from hyperscale.clients.aws import LOCAL_AWS_CREDENTIALS
    from hyperscale.infra.stack import STACK_FILE, Stack

    values = {
        "env": env,
        "infra": env.infra,
        "endpoint": local_endpoint(env),
        "endpoint_services": ENDPOINT_SERVICES,
        "local_credentials": LOCAL_AWS_CREDENTIALS,
    }
    written: list[Path] = []
    stack_text = render(app, f"{_TEMPLATES}/{STACK_FILE}.j2", **values)
    written.append(_write(out_dir / STACK_FILE, stack_text))

    import yaml

    stack = Stack.model_validate(yaml.safe_load(stack_text))
    for name, component in stack.components.items():
        root = out_dir / component.path
        per_component = {**values, "component": name}
        for target, template in _PER_ROOT.items():
            text = render(app, f"{_TEMPLATES}/{template}", **per_component)
            written.append(_write(root / target, text))
        main = render(app, f"{_TEMPLATES}/components/{name}.tf.j2", **per_component)
        written.append(_write(root / "main.tf", _HEADER.format(env=env.name, name=name) + main))
    return written


_HEADER = (
    "# Rendered from templates/terraform/components/{name}.tf.j2 for {env}; do not edit by hand.\n"
)


def _write(path: Path, text: str) -> Path:
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path
