"""The committed Terraform roots: fresh, wired to the stack, and only for AWS environments."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.infra.roots import render_terraform_roots
from hyperscale.infra.stack import apply_order, load_stack

#: Where the repository's committed roots live.
live_dir = AppContext().live_dir

AWS_ENVIRONMENTS = ["staging", "prod"]


@pytest.mark.parametrize("name", AWS_ENVIRONMENTS)
def test_committed_roots_equal_a_fresh_render(
    isolated_app: AppContext, tmp_path: Path, name: str
) -> None:
    env = load_environment(isolated_app, name)
    fresh = tmp_path / name
    written = render_terraform_roots(env, isolated_app, fresh)
    committed = live_dir(name)
    stale = [
        str(path.relative_to(fresh))
        for path in written
        if not (committed / path.relative_to(fresh)).is_file()
        or (committed / path.relative_to(fresh)).read_text() != path.read_text()
    ]
    extra = sorted(
        str(p.relative_to(committed))
        for p in committed.rglob("*")
        if p.is_file() and not (fresh / p.relative_to(committed)).is_file()
    )
    assert stale == [], f"stale: render again with `hyperscale render --env {name}`"
    assert extra == [], "files under terraform/live that the templates no longer produce"


@pytest.mark.parametrize("name", ["local", "sandbox"])
def test_environments_without_an_aws_account_have_no_roots(
    isolated_app: AppContext, tmp_path: Path, name: str
) -> None:
    env = load_environment(isolated_app, name)
    assert render_terraform_roots(env, isolated_app, tmp_path / name) == []
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name", AWS_ENVIRONMENTS)
def test_every_stack_input_is_a_declared_variable_and_upstream_output(name: str) -> None:
    """A wiring mistake would only show at apply time on AWS; catch it here."""
    stack_dir = live_dir(name)
    stack = load_stack(stack_dir)
    assert apply_order(stack)[:2] == ["vpc", "eks"]

    def blocks(component: str, kind: str) -> set[str]:
        names: set[str] = set()
        for tf in (stack_dir / stack.components[component].path).glob("*.tf"):
            for block in hcl2.loads(tf.read_text()).get(kind, []):
                names.update(name.strip('"') for name in block)
        return names

    for component, spec in stack.components.items():
        variables = blocks(component, "variable")
        for variable, ref in spec.input_refs().items():
            assert variable in variables, f"{component} has no variable {variable}"
            assert ref.output in blocks(ref.component, "output"), f"{ref} is not an output"


def test_secrets_are_references_not_values() -> None:
    text = "\n".join(p.read_text() for p in live_dir("prod").rglob("*.tf"))
    assert "hyperscale/prod/redis" in text  # the Secrets Manager name, resolved by AWS
    assert "password =" not in text
    assert "auth_token =" not in text


def _blocks(directory: Path, kind: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    for tf in directory.glob("*.tf"):
        for block in hcl2.loads(tf.read_text()).get(kind, []):
            found.update({name.strip('"'): body for name, body in block.items()})
    return found


_META_ARGUMENTS = {"source", "providers", "depends_on", "count", "for_each", "version"}


@pytest.mark.parametrize("name", AWS_ENVIRONMENTS)
def test_module_calls_match_the_modules_variables_and_outputs(name: str) -> None:
    """What `terraform validate` would check if providers could be downloaded here: every
    argument is a variable of the module, every required variable is given, and every
    module output a root reads exists."""
    stack_dir = live_dir(name)
    for root in sorted(p for p in stack_dir.iterdir() if p.is_dir()):
        text = "\n".join(tf.read_text() for tf in root.glob("*.tf"))
        for call, body in _blocks(root, "module").items():
            module_dir = (root / body["source"].strip('"')).resolve()
            variables = _blocks(module_dir, "variable")
            given = {k for k in body if not k.startswith("__")} - _META_ARGUMENTS
            assert given <= set(variables), (
                f"{root.name}: unknown arguments {given - set(variables)}"
            )
            required = {v for v, spec in variables.items() if "default" not in spec}
            assert required <= given, f"{root.name}: missing {required - given}"
            outputs = set(_blocks(module_dir, "output"))
            used = set(re.findall(rf"module\.{call}\.(\w+)", text))
            assert used <= outputs, f"{root.name}: module.{call} has no output {used - outputs}"


def test_every_module_variable_and_output_is_documented() -> None:
    modules = Path(__file__).resolve().parents[2] / "terraform" / "modules"
    undocumented = [
        f"{module.name}: {kind} {name}"
        for module in sorted(modules.iterdir())
        for kind in ("variable", "output")
        for name, body in _blocks(module, kind).items()
        if not body.get("description")
    ]
    assert undocumented == []
    assert sorted(p.name for p in modules.iterdir()) == sorted(
        ["alb-ingress", "cloudfront", "eks", "iam-irsa", "kms-key", "msk", "rds", "redis", "vpc"]
    )
    assert all((modules / m / "versions.tf").is_file() for m in ("vpc", "eks", "cloudfront"))
