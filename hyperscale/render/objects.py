"""The environment's Kubernetes objects for a deploy: rendered and validated in memory.

The same templates, values and validators as `hyperscale render`; nothing is written to
manifests/. A set of files that passed every validator is remembered (by its hash, under the
state directory), so deploying the same render again does not pay for checkov a second time.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.progress import Progress, quiet
from hyperscale.render.core import render_workspace, run_validators
from hyperscale.targets import require_kubernetes


def rendered_objects(
    env: Environment, app: AppContext, progress: Progress = quiet
) -> list[dict[str, Any]]:
    """Every Kubernetes object of the environment, in file order; a UsageError naming the
    first finding when a validator objects."""
    require_kubernetes(
        env, app, "nothing to render", hint="`hyperscale deploy --env local` runs no manifests"
    )
    with tempfile.TemporaryDirectory(prefix=f"hyperscale-deploy-{env.name}-") as tmp:
        workspace = render_workspace(
            env, app, Path(tmp).resolve(), app.manifests_dir(env.name), progress
        )
        digest = hashlib.sha256()
        for f in sorted(workspace.files, key=lambda f: f.relative):
            digest.update(f.relative.as_posix().encode() + b"\0" + f.text.encode() + b"\0")
        marker = app.state_dir / "render" / "validated" / f"{env.name}-{digest.hexdigest()[:32]}"
        if not marker.is_file():
            progress(f"validating {len(workspace.files)} rendered files")
            reports = run_validators(workspace)
            findings = [f for r in reports for f in r.findings]
            if findings:
                where = [f"{f.location(app.repo_root)}: {f.tool}: {f.message}" for f in findings]
                raise UsageError(
                    f"the render of {env.name} does not validate: {where[0]}",
                    details=where[1:],
                    hint=f"see `hyperscale render --env {env.name} --check`",
                )
            failed = [r for r in reports if r.error]
            if failed:
                raise ExternalSystemError(
                    f"validator {failed[0].tool} could not run: {failed[0].error}",
                    hint=f"see `hyperscale render --env {env.name} --check`",
                )
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
        return [
            doc.data
            for relative in sorted(workspace.documents)
            for doc in workspace.documents[relative]
            if isinstance(doc.data, dict) and doc.kind
        ]
