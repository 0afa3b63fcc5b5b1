"""Render everything for one environment into a private directory, validate it with every
validator, then either write it to manifests/<env>/ or (``check``) compare it with what is
committed there. Never prints; returns a RenderResult."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.progress import Progress, quiet
from hyperscale.render import documents
from hyperscale.render.results import RenderResult, StaleFile, Staleness
from hyperscale.render.templates import KUBERNETES, render_all
from hyperscale.render.validators import checkov, kube_schema, prometheus, secrets, terraform
from hyperscale.render.validators.base import Validator, ValidatorReport, Workspace, timed
from hyperscale.render.values import template_values
from hyperscale.targets import require_kubernetes

#: Slowest first, so the pool starts checkov (seconds of start-up) before the quick ones.
VALIDATORS: list[tuple[str, Validator]] = [
    ("checkov", checkov.validate),
    ("terraform", terraform.validate),
    ("promtool", prometheus.check_rules),
    ("amtool", prometheus.check_alertmanager),
    ("kube-schema", kube_schema.validate),
    ("secrets", secrets.validate),
]


def render_environment(
    env: Environment, app: AppContext, *, check: bool, progress: Progress = quiet
) -> RenderResult:
    require_kubernetes(
        env,
        app,
        "nothing to render",
        hint="the local target runs under supervisord (`hyperscale deploy --env local`)",
    )
    started = time.perf_counter()
    root = app.repo_root
    target = app.manifests_dir(env.name)
    with tempfile.TemporaryDirectory(prefix=f"hyperscale-render-{env.name}-") as tmp:
        workspace = render_workspace(env, app, Path(tmp).resolve(), target, progress)
        progress(f"validating {len(workspace.files)} files")
        reports = run_validators(workspace)
        fresh = {f.relative: f.text for f in workspace.files}
        stale = compare(target, fresh)
        written = [] if check else write(target, fresh, stale)
        # The Terraform roots are committed too (terraform/live/<env>), beside what
        # `terraform init` leaves there (.terraform/, the lock file), which is not ours.
        tf_target = app.live_dir(env.name)
        tf_fresh = {
            workspace.display_of(path).relative_to(tf_target): path.read_text(encoding="utf-8")
            for path in workspace.terraform_paths
        }
        if tf_fresh:
            tf_stale = compare(tf_target, tf_fresh, managed=_terraform_file)
            stale += tf_stale
            written += [] if check else write(tf_target, tf_fresh, tf_stale)
    return RenderResult(
        env=env.name,
        root=root,
        output_dir=target,
        files=[target / p for p in sorted(fresh)],
        check=check,
        reports=reports,
        stale=stale,
        written=written,
        seconds=time.perf_counter() - started,
    )


def render_workspace(
    env: Environment, app: AppContext, tmp: Path, target: Path, progress: Progress
) -> Workspace:
    progress(f"rendering {env.name}")
    values = template_values(env)
    files = render_all(app.templates_dir, values)
    out_dir = tmp / "manifests"
    parsed: dict[Path, list[documents.Document]] = {}
    yaml_findings = []
    for f in files:
        path = out_dir / f.relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f.text, encoding="utf-8")
        if f.relative.parts[0] == "alertmanager":
            continue  # a configuration file, not Kubernetes objects (amtool checks it)
        docs, problems = documents.parse(target / f.relative, f.text)
        parsed[f.relative] = docs
        source = f"templates/{KUBERNETES}/{f.template.as_posix()}"
        yaml_findings += [
            replace(p, message=f"{p.message} (rendered from {source})") for p in problems
        ]
    if yaml_findings:
        first = yaml_findings[0]
        raise UsageError(
            f"{first.location(app.repo_root)}: {first.message}",
            details=[f"{p.location(app.repo_root)}: {p.message}" for p in yaml_findings[1:]],
            hint="a template renders invalid YAML; fix the template",
        )
    tf_paths, tf_display = terraform.render_roots(env, app, tmp / "terraform")
    work = tmp / "work"
    work.mkdir()
    return Workspace(
        env=env,
        app=app,
        out_dir=out_dir,
        display_root=target,
        work_dir=work,
        files=files,
        documents=parsed,
        values=values,
        terraform_paths=tf_paths,
        terraform_display=tf_display,
    )


def run_validators(workspace: Workspace) -> list[ValidatorReport]:
    """All validators at once: most of the time is spent in subprocesses (checkov, promtool)."""
    with ThreadPoolExecutor(max_workers=len(VALIDATORS)) as pool:
        futures = [pool.submit(timed, tool, check, workspace) for tool, check in VALIDATORS]
        return [f.result() for f in futures]


def _terraform_file(relative: Path) -> bool:
    return ".terraform" not in relative.parts and (
        relative.suffix == ".tf" or relative.name == "stack.yaml"
    )


def compare(
    target: Path, fresh: dict[Path, str], managed: Callable[[Path], bool] = lambda _: True
) -> list[StaleFile]:
    committed = (
        {
            p.relative_to(target)
            for p in target.rglob("*")
            if p.is_file() and managed(p.relative_to(target))
        }
        if target.is_dir()
        else set()
    )
    stale = [
        StaleFile(target / rel, Staleness.MISSING if rel not in committed else Staleness.CHANGED)
        for rel, text in sorted(fresh.items())
        if rel not in committed or (target / rel).read_text(encoding="utf-8") != text
    ]
    stale += [StaleFile(target / rel, Staleness.EXTRA) for rel in sorted(committed - fresh.keys())]
    return stale


def write(target: Path, fresh: dict[Path, str], stale: list[StaleFile]) -> list[Path]:
    """Bring the tree to the fresh render: changed and missing files written, extra removed."""
    for s in stale:
        if s.state is Staleness.EXTRA:
            s.path.unlink()
        else:
            s.path.parent.mkdir(parents=True, exist_ok=True)
            s.path.write_text(fresh[s.path.relative_to(target)], encoding="utf-8")
    for directory in sorted((p for p in target.rglob("*") if p.is_dir()), reverse=True):
        # Directories left empty by removed files go too (never one with anything in it).
        if not any(directory.iterdir()):
            directory.rmdir()
    return [s.path for s in stale]
