"""The stack of an environment on the local AWS endpoint (local-aws): its roots are rendered
into the state directory on every run, since they hold this machine's endpoint, and what they
need before `terraform init` (state bucket, lock table, log bucket, referenced secrets) is
created in moto when missing."""

from __future__ import annotations

from pathlib import Path

from hyperscale.clients import aws_prerequisites as prerequisites
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.infra.roots import render_terraform_roots
from hyperscale.progress import Progress, quiet

#: Under the state directory: live/<env>/<component>, and modules -> terraform/modules, so
#: the roots' ``../../../modules/<name>`` sources resolve as they do in the repository.
ROOTS_DIR = "terraform-roots"


def rendered_stack_dir(env: Environment, app: AppContext) -> Path:
    return app.state_dir / ROOTS_DIR / "live" / env.name


def prepare_local_stack(env: Environment, app: AppContext, progress: Progress = quiet) -> Path:
    """Render the roots and create the account's prerequisites; the stack directory."""
    assert env.infra is not None  # noqa: S101 - callers check; mypy needs it
    base = app.state_dir / ROOTS_DIR
    live = rendered_stack_dir(env, app)
    progress(f"rendering {env.name}'s roots")
    render_terraform_roots(env, app, live)
    modules = app.repo_root / "terraform" / "modules"
    link = base / "modules"
    if link.is_symlink() and link.resolve() != modules.resolve():
        link.unlink()
    if not link.is_symlink():
        link.symlink_to(modules, target_is_directory=True)
    progress("state bucket, lock table, log bucket and secrets")
    prerequisites.ensure_bucket(env.aws, env.infra.state_bucket)
    prerequisites.ensure_lock_table(env.aws, env.infra.lock_table)
    prerequisites.ensure_bucket(env.aws, env.infra.log_bucket)
    for ref in (env.redis.auth_token, env.kafka.security.password):
        if ref is not None and ref.aws_secret:
            prerequisites.ensure_generated_secret(env.aws, ref.aws_secret, ref.json_key)
    return live
