"""Run a stack's Terraform roots as a DAG: plan, apply, outputs; upstream outputs feed inputs.

Each component's working data (TF_DATA_DIR, the plan file, the generated inputs file) lives
under ``<state>/terraform/<env>/<component>/``, never in the committed roots.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ExternalSystemError, UsageError
from hyperscale.infra.addresses import resource_addresses
from hyperscale.infra.client import OutputValue, PlanSummary, Terraform
from hyperscale.infra.local_stack import prepare_local_stack
from hyperscale.infra.providers import plugin_mirror
from hyperscale.infra.results import (
    SENSITIVE_PLACEHOLDER,
    ComponentOutcome,
    ComponentOutputs,
    ComponentStatus,
    StackOutputs,
    StackRun,
)
from hyperscale.infra.roots import local_endpoint
from hyperscale.infra.stack import Stack, apply_order, excluded_components, load_stack, waves
from hyperscale.progress import Progress, quiet
from hyperscale.safety import confirm_protected

#: Inputs from upstream outputs; terraform reads it through -var-file.
INPUTS_FILE = "upstream.auto.tfvars.json"
#: Terraform roots run at once: each is a terraform process and a provider (the AWS one
#: holds ~300 MB); their time is mostly waiting on the cloud's API.
PLAN_CONCURRENCY = 4


def stack_dir_for(
    env: Environment, app: AppContext, given: Path | None, progress: Progress = quiet
) -> Path:
    if given is not None:
        return given
    if env.infra is not None and local_endpoint(env) is not None:
        return prepare_local_stack(env, app, progress)
    if env.infra is None:
        raise UsageError(
            f"environment {env.name} has no Terraform roots: only environments with a real AWS"
            " account (an `infra:` section) have them",
            hint="use --env staging or --env prod, or point --stack-dir at a stack",
        )
    return app.live_dir(env.name)


class MissingInputError(Exception):
    """An upstream output a component needs does not exist (the upstream is not applied)."""


@dataclass
class Run:
    """One invocation over a stack: where things are, and the outputs read so far."""

    env: Environment
    app: AppContext
    stack_dir: Path
    stack: Stack
    progress: Progress = quiet
    known_outputs: dict[str, dict[str, OutputValue]] = field(default_factory=dict)
    #: module -> why it is not run here (the environment's exclusions and their dependents).
    excluded: dict[str, str] = field(default_factory=dict)
    #: module -> {resource address: why}: resources its plans leave out.
    excluded_resources: dict[str, dict[str, str]] = field(default_factory=dict)
    #: One lock per component whose outputs are read: roots planned at once share upstreams.
    outputs_locks: dict[str, threading.Lock] = field(default_factory=dict)
    locks_lock: threading.Lock = field(default_factory=threading.Lock)

    def excluded_outcome(self, name: str) -> ComponentOutcome | None:
        if name not in self.excluded:
            return None
        return ComponentOutcome(name, ComponentStatus.EXCLUDED, message=self.excluded[name])

    def targets(self, name: str) -> list[str]:
        """Every managed resource of the root but the excluded ones (none excluded: no
        -target), read from the root's HCL and its local modules'."""
        left_out = self.excluded_resources.get(name)
        if not left_out:
            return []
        declared = resource_addresses(self.stack_dir / self.stack.components[name].path)
        unknown = sorted(set(left_out) - set(declared))
        if unknown:
            raise UsageError(
                f"infra.excluded_resources.{name}: no resource {', '.join(unknown)} in the root",
                hint="name a resource as terraform addresses it (module.eks.aws_eks_addon.this)",
            )
        return [address for address in declared if address not in left_out]

    def left_out_note(self, name: str) -> str | None:
        left_out = self.excluded_resources.get(name)
        if not left_out:
            return None
        return "left out: " + "; ".join(f"{a} ({why})" for a, why in left_out.items())

    def work_dir(self, name: str) -> Path:
        """Private to the user: plan files and upstream outputs may hold secret values."""
        path = self.app.state_dir / "terraform" / self.env.name / name
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def terraform(self, name: str) -> Terraform:
        root = self.stack_dir / self.stack.components[name].path
        if not root.is_dir():
            raise UsageError(
                f"module {name}: root directory {root} does not exist",
                hint="render the roots again (`hyperscale render`) or fix stack.yaml",
            )
        reclaim = local_endpoint(self.env) is not None  # moto: see Terraform._locked_run
        data = self.work_dir(name) / "data"
        return Terraform(self.app, root, data, self.plugin_dir, reclaim_own_locks=reclaim)

    @property
    def plugin_dir(self) -> Path | None:
        """Against the local endpoint nothing is downloaded: providers come from the mirror."""
        return plugin_mirror(self.app) if local_endpoint(self.env) is not None else None

    def outputs_of(self, name: str) -> dict[str, OutputValue]:
        with self.locks_lock:
            lock = self.outputs_locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self.known_outputs:
                terraform = self.terraform(name)
                self.progress(f"{name}: reading outputs")
                terraform.init_if_changed()
                self.known_outputs[name] = terraform.outputs()
            return self.known_outputs[name]

    def forget_outputs(self, name: str) -> None:
        """After an apply or destroy: its outputs are read again when next needed."""
        with self.locks_lock:
            self.known_outputs.pop(name, None)

    def upstreams(self, names: list[str]) -> set[str]:
        """The components whose outputs ``names`` take as inputs."""
        return {
            ref.component
            for name in names
            for ref in self.stack.components[name].input_refs().values()
        }

    def read_outputs(self, names: set[str]) -> None:
        """Read these components' outputs at once (`terraform output` per root, each a
        program start of its own); one that cannot answer is left for the component that
        needs it to report."""
        pending = sorted(names - set(self.known_outputs))

        def read(name: str) -> None:
            with contextlib.suppress(ExternalSystemError, UsageError):
                self.outputs_of(name)

        if len(pending) > 1:
            with ThreadPoolExecutor(max_workers=len(pending)) as pool:
                list(pool.map(read, pending))

    def write_inputs(self, name: str) -> Path:
        """The component's upstream values as a tfvars file (0600: outputs may be secret)."""
        values: dict[str, Any] = {}
        for variable, ref in self.stack.components[name].input_refs().items():
            outputs = self.outputs_of(ref.component)
            if ref.output not in outputs:
                raise MissingInputError(
                    f"needs {ref} for input {variable}, which does not exist yet"
                    f" (apply {ref.component} first)"
                )
            values[variable] = outputs[ref.output].value
        path = self.work_dir(name) / INPUTS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(values, handle, indent=2, sort_keys=True)
        return path

    def plan_file(self, name: str) -> Path:
        return self.work_dir(name) / "plan.tfplan"

    def discard_plan(self, name: str) -> None:
        """A plan file holds every value it sets, secrets included: keep it no longer than used."""
        self.plan_file(name).unlink(missing_ok=True)

    def plan_guarded(self, name: str) -> ComponentOutcome:
        """plan_one's outcome, a terraform failure as a FAILED outcome; no plan file kept."""
        started = time.monotonic()
        try:
            outcome, _ = self.plan_one(name)
        except ExternalSystemError as exc:
            outcome = ComponentOutcome(
                name, ComponentStatus.FAILED, message=exc.message, seconds=since(started)
            )
        finally:
            self.discard_plan(name)
        return outcome

    def apply_guarded(self, name: str) -> ComponentOutcome:
        """_apply_one's outcome, a terraform failure as a FAILED outcome; no plan file kept."""
        started = time.monotonic()
        try:
            return _apply_one(self, name, started)
        except ExternalSystemError as exc:
            return ComponentOutcome(
                name, ComponentStatus.FAILED, message=exc.message, seconds=since(started)
            )
        finally:
            self.discard_plan(name)

    def plan_one(self, name: str) -> tuple[ComponentOutcome, bool]:
        """Plan one component; True with the outcome when there is something to apply."""
        started = time.monotonic()
        terraform = self.terraform(name)
        self.progress(f"{name}: init")
        terraform.init_if_changed()
        try:
            inputs = self.write_inputs(name)
        except MissingInputError as missing:
            outcome = ComponentOutcome(
                name, ComponentStatus.BLOCKED, message=str(missing), seconds=since(started)
            )
            return outcome, False
        targets = self.targets(name)
        self.progress(f"{name}: plan")
        summary = terraform.plan(self.plan_file(name), [inputs], targets=targets)
        # Drift alone (objects changed outside Terraform) counts: terraform's exit code
        # leaves it out, its stream does not.
        has_changes = summary.has_changes
        status = ComponentStatus.CHANGES if has_changes else ComponentStatus.NO_CHANGES
        outcome = _outcome(name, status, summary, started)
        return replace(outcome, message=self.left_out_note(name)), has_changes


def since(started: float) -> float:
    return time.monotonic() - started


def _outcome(
    name: str, status: ComponentStatus, summary: PlanSummary, started: float
) -> ComponentOutcome:
    return ComponentOutcome(
        name,
        status,
        add=summary.count("add"),
        change=summary.count("change"),
        destroy=summary.count("destroy"),
        drift=summary.drift,
        resources=[f"{r.kind} {r.address}" for r in summary.resources],
        output_changes=summary.output_changes,
        seconds=since(started),
    )


def open_run(env: Environment, app: AppContext, stack_dir: Path | None, progress: Progress) -> Run:
    directory = stack_dir_for(env, app, stack_dir, progress)
    run = Run(env, app, directory, load_stack(directory), progress)
    if stack_dir is None and env.infra is not None:  # the environment's own stack
        run.excluded = excluded_components(run.stack, env.infra.excluded_modules)
        unknown = sorted(set(env.infra.excluded_resources) - set(run.stack.components))
        if unknown:
            raise UsageError(
                f"infra.excluded_resources: unknown module {', '.join(unknown)}",
                hint=f"choose from: {', '.join(sorted(run.stack.components))}",
            )
        run.excluded_resources = dict(env.infra.excluded_resources)
    return run


def plan(
    env: Environment,
    app: AppContext,
    *,
    modules: list[str] | None = None,
    stack_dir: Path | None = None,
    progress: Progress = quiet,
) -> StackRun:
    """Plan every selected component. A failure does not stop the others, but the components
    that depend on it are reported as not planned (their inputs would be guesses).

    A plan changes nothing and reads its upstreams' outputs from their state as they are,
    so every component is planned at once (at most ``PLAN_CONCURRENCY``), not wave by wave;
    the results are then read in dependency order.
    """
    run = open_run(env, app, stack_dir, progress)
    order = apply_order(run.stack, modules)
    ready = [name for name in order if name not in run.excluded]
    run.read_outputs(run.upstreams(ready))
    with ThreadPoolExecutor(max_workers=max(1, min(PLAN_CONCURRENCY, len(ready)))) as pool:
        planned = dict(zip(ready, pool.map(run.plan_guarded, ready), strict=True))
    outcomes: list[ComponentOutcome] = []
    #: component -> the failed module it depends on (itself when it failed).
    failed_because: dict[str, str] = {}
    #: components whose outputs would change: what their downstreams were planned with is stale.
    outputs_changing: set[str] = set()
    for name in order:
        excluded = run.excluded_outcome(name)
        if excluded is not None:
            outcomes.append(excluded)
            continue
        outcome = planned[name]
        dependencies = run.stack.components[name].dependencies()
        causes = sorted({failed_because[d] for d in dependencies if d in failed_because})
        if causes:
            failed_because[name] = causes[0]
            message = f"not planned: {', '.join(causes)} failed"
            outcomes.append(ComponentOutcome(name, ComponentStatus.NOT_RUN, message=message))
            continue
        if outcome.status is ComponentStatus.FAILED:
            failed_because[name] = name
        if outcome.output_changes:
            outputs_changing.add(name)
        stale = sorted(dependencies & outputs_changing)
        if stale and outcome.status is not ComponentStatus.FAILED:
            note = (
                f"planned with the current outputs of {', '.join(stale)}, which will"
                " change: apply plans it again with the new ones"
            )
            outcome = replace(
                outcome, message=f"{outcome.message}; {note}" if outcome.message else note
            )
        outcomes.append(outcome)
    return StackRun("plan", env.name, str(run.stack_dir), outcomes)


def apply(
    env: Environment,
    app: AppContext,
    *,
    modules: list[str] | None = None,
    stack_dir: Path | None = None,
    progress: Progress = quiet,
    yes: bool = False,
) -> StackRun:
    """Plan and apply each selected component in dependency order, the components of a wave
    (none needing another) at once, and stop after the wave where one failed.

    The plan that is applied is the one just made and saved (`apply PLANFILE`), so nothing
    changes between what was planned and what is applied; an empty plan is not applied.
    A protected environment is confirmed first (``yes``, or its name typed at a terminal).
    """
    confirm_protected(app, env, "apply Terraform changes to its infrastructure", yes=yes)
    run = open_run(env, app, stack_dir, progress)
    order = apply_order(run.stack, modules)
    selected = [name for name in order if name not in run.excluded]
    run.read_outputs(run.upstreams(selected) - set(selected))
    found = run_waves(
        run,
        waves(run.stack, order),
        run.apply_guarded,
        stop_on=(ComponentStatus.FAILED, ComponentStatus.BLOCKED),
    )
    return StackRun("apply", env.name, str(run.stack_dir), [found[name] for name in order])


def run_waves(
    run: Run,
    ordered_waves: list[list[str]],
    step: Callable[[str], ComponentOutcome],
    stop_on: tuple[ComponentStatus, ...],
) -> dict[str, ComponentOutcome]:
    """``step`` over each wave's components at once (they need none of each other), wave after
    wave; after a wave where one ended in ``stop_on`` the rest are "not run". Excluded
    components keep their excluded outcome."""
    found: dict[str, ComponentOutcome] = {}
    stopped_by: list[str] = []
    for wave in ordered_waves:
        ready = []
        for name in wave:
            excluded = run.excluded_outcome(name)
            if excluded is not None:
                found[name] = excluded
            elif stopped_by:
                message = f"not run: {', '.join(stopped_by)} failed"
                found[name] = ComponentOutcome(name, ComponentStatus.NOT_RUN, message=message)
            else:
                ready.append(name)
        if not ready:
            continue
        with ThreadPoolExecutor(max_workers=min(PLAN_CONCURRENCY, len(ready))) as pool:
            done = dict(zip(ready, pool.map(step, ready), strict=True))
        found.update(done)
        stopped_by = [name for name in ready if done[name].status in stop_on]
    return found


def _apply_one(run: Run, name: str, started: float) -> ComponentOutcome:
    planned, has_changes = run.plan_one(name)
    if planned.status is ComponentStatus.BLOCKED:
        return planned
    if not has_changes:
        return ComponentOutcome(
            name, ComponentStatus.UNCHANGED, message=planned.message, seconds=since(started)
        )
    run.progress(f"{name}: apply")
    terraform = run.terraform(name)
    terraform.apply(run.plan_file(name))
    run.progress(f"{name}: refresh")
    terraform.refresh_state([run.work_dir(name) / INPUTS_FILE])
    run.forget_outputs(name)  # they may have changed
    return ComponentOutcome(
        name,
        ComponentStatus.APPLIED,
        add=planned.add,
        change=planned.change,
        destroy=planned.destroy,
        drift=planned.drift,
        resources=planned.resources,
        output_changes=planned.output_changes,
        message=planned.message,
        seconds=since(started),
    )


def outputs(
    env: Environment,
    app: AppContext,
    *,
    modules: list[str] | None = None,
    stack_dir: Path | None = None,
    progress: Progress = quiet,
) -> StackOutputs:
    """Each selected component's outputs, sensitive values replaced by a placeholder."""
    run = open_run(env, app, stack_dir, progress)
    found = []
    for name in apply_order(run.stack, modules):
        if name in run.excluded:
            continue
        values = run.outputs_of(name)
        found.append(
            ComponentOutputs(
                name,
                {
                    key: SENSITIVE_PLACEHOLDER if item.sensitive else item.value
                    for key, item in values.items()
                },
                sorted(key for key, item in values.items() if item.sensitive),
            )
        )
    return StackOutputs(env.name, found)
