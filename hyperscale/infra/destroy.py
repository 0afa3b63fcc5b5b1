"""`hyperscale infra destroy`: the stack's components destroyed in reverse dependency order."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.infra.addresses import resource_addresses
from hyperscale.infra.core import MissingInputError, Run, open_run, run_waves, since
from hyperscale.infra.results import ComponentOutcome, ComponentStatus, StackRun
from hyperscale.infra.stack import apply_order, waves
from hyperscale.progress import Progress, quiet
from hyperscale.safety import confirm_destroy


def destroy(
    env: Environment,
    app: AppContext,
    *,
    modules: list[str] | None = None,
    stack_dir: Path | None = None,
    progress: Progress = quiet,
    yes: bool = False,
    dry_run: bool = False,
) -> StackRun:
    """Destroy each selected component in reverse dependency order, stopping after the wave
    where one failed: a component goes only after everything that uses its outputs has gone.

    Always needs ``yes``; a protected environment also needs its name typed. ``dry_run``
    only plans the destruction (status "changes", with the count), without confirmation.
    """
    if not dry_run:
        confirm_destroy(app, env, "destroy its Terraform-managed infrastructure", yes=yes)
    run = open_run(env, app, stack_dir, progress)
    order = apply_order(run.stack, modules)
    selected = [name for name in order if name not in run.excluded]
    run.read_outputs(run.upstreams(selected))
    # Reverse waves: a component goes only after everything that uses its outputs has gone.
    found = run_waves(
        run,
        list(reversed(waves(run.stack, order))),
        partial(_destroy_guarded, run, dry_run),
        stop_on=(ComponentStatus.FAILED,),
    )
    outcomes = [found[name] for name in reversed(order)]
    return StackRun("destroy", env.name, str(run.stack_dir), outcomes)


def _destroy_guarded(run: Run, dry_run: bool, name: str) -> ComponentOutcome:
    started = time.monotonic()
    try:
        return _destroy_one(run, name, started, dry_run=dry_run)
    except (ExternalSystemError, MissingInputError) as exc:
        message = exc.message if isinstance(exc, ExternalSystemError) else str(exc)
        return ComponentOutcome(
            name, ComponentStatus.FAILED, message=message, seconds=since(started)
        )
    finally:
        run.discard_plan(name)


def _destroy_one(run: Run, name: str, started: float, *, dry_run: bool) -> ComponentOutcome:
    terraform = run.terraform(name)
    run.progress(f"{name}: init")
    terraform.init_if_changed()
    inputs = run.write_inputs(name)
    targets = _destroy_targets(run, name)
    if dry_run:
        run.progress(f"{name}: plan -destroy")
        summary = terraform.plan(run.plan_file(name), [inputs], destroy=True, targets=targets)
    else:
        # Planned and applied by one terraform run: a saved plan read back would start the
        # provider twice more for nothing a person looks at in between.
        run.progress(f"{name}: destroy")
        summary = terraform.destroy([inputs], targets=targets)
        run.forget_outputs(name)
    gone = summary.count("destroy")
    if gone == 0:
        return ComponentOutcome(name, ComponentStatus.UNCHANGED, seconds=since(started))
    resources = [f"{r.kind} {r.address}" for r in summary.resources]
    status = ComponentStatus.CHANGES if dry_run else ComponentStatus.DESTROYED
    return ComponentOutcome(
        name,
        status,
        destroy=gone,
        resources=resources,
        message=None if dry_run else _kept_note(run, name),
        seconds=since(started),
    )


def _destroy_targets(run: Run, name: str) -> list[str]:
    """Every resource of the root but those the environment keeps (none kept: no -target)."""
    kept = run.env.infra.kept_on_destroy.get(name, {}) if run.env.infra else {}
    if not kept:
        return []
    declared = resource_addresses(run.stack_dir / run.stack.components[name].path)
    return [address for address in declared if address not in kept]


def _kept_note(run: Run, name: str) -> str | None:
    kept = run.env.infra.kept_on_destroy.get(name, {}) if run.env.infra else {}
    return ("kept: " + "; ".join(f"{a} ({why})" for a, why in kept.items())) if kept else None
