"""The Terraform side of a render, provided by hyperscale.infra (`hyperscale infra`'s owner):
``render_terraform_roots`` writes an environment's roots, ``validate_terraform`` runs
`terraform fmt -check`, an HCL parse and, where the provider plugins are in a local mirror,
`terraform validate` on them and on terraform/modules/. Plugins cannot be downloaded here: a
directory whose plugins are missing is skipped with a note, not a finding.

Environments without an ``infra`` section (sandbox: no AWS account) have no roots.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.render.validators.base import ValidatorReport, Workspace

TOOL = "terraform"


def available() -> bool:
    return importlib.util.find_spec("hyperscale.infra.roots") is not None


def render_roots(
    env: Environment, app: AppContext, out_dir: Path
) -> tuple[list[Path], dict[Path, Path]]:
    """The roots rendered into ``out_dir``, and how to name them (their committed place).

    The layout mirrors the repository's (``live/<env>/<root>``, with ``modules`` a link to
    terraform/modules), so the roots' ``../../../modules/<name>`` sources resolve and checkov
    scans each module as this environment calls it, with its real inputs.
    """
    if not available():
        return [], {}
    from hyperscale.infra.roots import render_terraform_roots

    live = out_dir.resolve() / "live" / env.name
    paths = render_terraform_roots(env, app, live)
    if not paths:
        return [], {}
    display = {live: app.live_dir(env.name)}
    modules = app.repo_root / "terraform" / "modules"
    if modules.is_dir():
        (out_dir / "modules").symlink_to(modules, target_is_directory=True)
        display[out_dir.resolve() / "modules"] = modules
    return [p.resolve() for p in paths], display


def validate(workspace: Workspace) -> ValidatorReport:
    report = ValidatorReport(TOOL)
    if not available():
        report.notes.append("hyperscale.infra is not installed: Terraform not checked")
        return report
    from hyperscale.infra.validate import validate_skipped, validate_terraform

    if not workspace.terraform_paths:
        report.notes.append("no Terraform roots for this environment (no infra section)")
        return report
    modules = workspace.app.repo_root / "terraform" / "modules"
    paths = [*workspace.terraform_paths, *([modules] if modules.is_dir() else [])]
    found = validate_terraform(paths, workspace.app)
    report.findings += [
        f.__class__(workspace.display_of(f.file), f.line, f.tool, f.message) for f in found
    ]
    skipped = validate_skipped(paths, workspace.app)
    directories = {f.parent for p in paths for f in ([p] if p.is_file() else p.rglob("*.tf"))}
    report.notes.append(
        f"fmt -check and HCL parse on {len(workspace.terraform_paths)} rendered files and"
        " terraform/modules; terraform validate in"
        f" {len(directories) - len(skipped)} of {len(directories)} directories"
        + (
            f" (skipped in {len(skipped)}: their provider plugins are not in the local mirror"
            " and cannot be downloaded here)"
            if skipped
            else ""
        )
    )
    return report
