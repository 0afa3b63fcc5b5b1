"""`hyperscale infra destroy`: the stack's components destroyed in reverse dependency order."""

from __future__ import annotations

import time
from pathlib import Path

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError
from hyperscale.infra.addresses import resource_addresses
from hyperscale.infra.core import MissingInputError, Run, open_run, since
from hyperscale.infra.results import ComponentOutcome, ComponentStatus, StackRun
from hyperscale.infra.stack import apply_order
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
    """Destroy each selected component in reverse dependency order, stopping at the first
    failure: a component goes only after everything that uses its outputs has gone.

    Always needs ``yes``; a protected environment also needs its name typed. ``dry_run``
    only plans the destruction (status "changes", with the count), without confirmation.
    """
    if not dry_run:
        confirm_destroy(app, env, "destroy its Terraform-managed infrastructure", yes=yes)
    run = open_run(env, app, stack_dir, progress)
    order = list(reversed(apply_order(run.stack, modules)))
    outcomes: list[ComponentOutcome] = []
    for index, name in enumerate(order):
        excluded = run.excluded_outcome(name)
        if excluded is not None:
            outcomes.append(excluded)
            continue
        started = time.monotonic()
        try:
            outcome = _destroy_one(run, name, started, dry_run=dry_run)
        except (ExternalSystemError, MissingInputError) as exc:
            message = exc.message if isinstance(exc, ExternalSystemError) else str(exc)
            outcome = ComponentOutcome(
                name, ComponentStatus.FAILED, message=message, seconds=since(started)
            )
        finally:
            run.discard_plan(name)
        outcomes.append(outcome)
        if outcome.status is ComponentStatus.FAILED:
            outcomes += [
                ComponentOutcome(rest, ComponentStatus.NOT_RUN, message=f"not run: {name} failed")
                for rest in order[index + 1 :]
            ]
            break
    return StackRun("destroy", env.name, str(run.stack_dir), outcomes)


def _destroy_one(run: Run, name: str, started: float, *, dry_run: bool) -> ComponentOutcome:
    terraform = run.terraform(name)
    run.progress(f"{name}: init")
    terraform.init_if_changed()
    inputs = run.write_inputs(name)
    run.progress(f"{name}: plan -destroy")
    plan_file = run.plan_file(name)
    terraform.plan(plan_file, [inputs], destroy=True, targets=_destroy_targets(run, name))
    summary = terraform.show_plan(plan_file)
    gone = summary.count("destroy")
    if gone == 0:
        return ComponentOutcome(name, ComponentStatus.UNCHANGED, seconds=since(started))
    resources = [f"{r.kind} {r.address}" for r in summary.resources]
    if dry_run:
        status = ComponentStatus.CHANGES
        return ComponentOutcome(name, status, destroy=gone, resources=resources)
    run.progress(f"{name}: destroy")
    terraform.apply(plan_file)
    run.known_outputs.pop(name, None)
    return ComponentOutcome(
        name,
        ComponentStatus.DESTROYED,
        destroy=gone,
        resources=resources,
        message=_kept_note(run, name),
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
