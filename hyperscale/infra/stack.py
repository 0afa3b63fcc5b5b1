"""The stack description (stack.yaml beside the roots): components, dependencies, wiring.

Each component is one Terraform root. ``inputs`` maps a root's variable to an upstream
component's output (``"vpc.private_subnet_ids"``); every such reference is also a dependency.
"""

from __future__ import annotations

import graphlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from hyperscale.errors import ConfigError, UsageError

STACK_FILE = "stack.yaml"
_NAME = r"^[a-z][a-z0-9-]{0,62}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OutputRef(_Strict):
    component: str
    output: str

    def __str__(self) -> str:
        return f"{self.component}.{self.output}"


class StackComponent(_Strict):
    #: The root directory, relative to the stack file.
    path: str = Field(min_length=1)
    #: Ordering without data: components that must be applied first.
    depends_on: list[str] = Field(default_factory=list)
    #: variable name -> "component.output"
    inputs: dict[str, str] = Field(default_factory=dict)

    def input_refs(self) -> dict[str, OutputRef]:
        refs = {}
        for variable, source in self.inputs.items():
            component, _, output = source.partition(".")
            refs[variable] = OutputRef(component=component, output=output)
        return refs

    def dependencies(self) -> set[str]:
        return set(self.depends_on) | {ref.component for ref in self.input_refs().values()}


class Stack(_Strict):
    apiVersion: Literal["hyperscale.dev/v1"]  # noqa: N815 - the key as written in the file
    kind: Literal["TerraformStack"]
    environment: str = Field(pattern=_NAME)
    components: dict[str, StackComponent] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_exist(self) -> Stack:
        problems = []
        for name, component in self.components.items():
            for variable, source in component.inputs.items():
                upstream, dot, output = source.partition(".")
                if not dot or not output:
                    problems.append(
                        f"components.{name}.inputs.{variable}: {source!r} is not component.output"
                    )
                elif upstream not in self.components:
                    problems.append(
                        f"components.{name}.inputs.{variable}: unknown component {upstream!r}"
                    )
            problems += [
                f"components.{name}.depends_on: unknown component {dep!r}"
                for dep in component.depends_on
                if dep not in self.components
            ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def load_stack(stack_dir: Path) -> Stack:
    import yaml

    path = stack_dir / STACK_FILE
    if not path.is_file():
        raise UsageError(
            f"no Terraform stack at {path}",
            hint="render the roots with `hyperscale render --env ENV`, or pass --stack-dir",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Stack.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{path}: {where + ': ' if where else ''}{first['msg']}",
            hint="fix the stack file (apiVersion, kind, environment, components)",
        ) from None


def apply_order(stack: Stack, selected: list[str] | None = None) -> list[str]:
    """Components in dependency order (ties alphabetical, so runs are repeatable).

    ``selected`` limits the result to those components, still in dependency order; their
    dependencies are not run (their outputs are read from state instead).
    """
    unknown = [name for name in selected or [] if name not in stack.components]
    if unknown:
        raise UsageError(
            f"unknown module {', '.join(unknown)}",
            hint=f"choose from: {', '.join(sorted(stack.components))}",
        )
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(
        {name: component.dependencies() for name, component in stack.components.items()}
    )
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle = " -> ".join(exc.args[1])
        raise UsageError(
            f"{STACK_FILE}: dependency cycle: {cycle}",
            hint="remove one of these dependencies (an input or depends_on)",
        ) from None
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order += ready
        sorter.done(*ready)
    return [name for name in order if selected is None or name in selected]


def excluded_components(stack: Stack, configured: dict[str, str]) -> dict[str, str]:
    """The configured modules with their reasons, and every module that needs one of them."""
    unknown = sorted(set(configured) - set(stack.components))
    if unknown:
        raise UsageError(
            f"infra.excluded_modules: unknown module {', '.join(unknown)}",
            hint=f"choose from: {', '.join(sorted(stack.components))}",
        )
    found = {name: f"excluded: {reason}" for name, reason in configured.items()}
    for name in apply_order(stack):
        needs = sorted(d for d in stack.components[name].dependencies() if d in found)
        if needs and name not in found:
            found[name] = f"excluded: needs {', '.join(needs)}, excluded here"
    return found


def waves(stack: Stack, order: list[str]) -> list[list[str]]:
    """``order`` (components in dependency order) grouped so that no component needs another
    of its group: a component's group comes after every group holding one of its (selected)
    dependencies. Each group keeps ``order``'s order."""
    depth: dict[str, int] = {}
    for name in order:
        needs = [depth[d] for d in stack.components[name].dependencies() if d in depth]
        depth[name] = 1 + max(needs, default=-1)
    grouped: list[list[str]] = [[] for _ in range(1 + max(depth.values(), default=-1))]
    for name in order:
        grouped[depth[name]].append(name)
    return grouped
