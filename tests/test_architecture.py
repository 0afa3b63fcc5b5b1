"""The shape of the package: no import cycles, layers enforced, modules of a readable size."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "hyperscale"
MAX_LINES = 450
#: A module may be longer when its first lines say why, in a comment starting with this.
LONG_REASON = "# Long on purpose:"
FOR_ENV = "hyperscale/targets/__init__.py"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Every module of the package and the package modules it imports, at any depth of the
    code (function-level imports count: they are cycles all the same, only later)."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                wanted = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                wanted = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for imported in wanted:
                target = imported
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # A package's own __init__ is not an import of it by its children.
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_the_package() -> None:
    graph = import_graph()
    assert "hyperscale.cli" in graph
    assert "hyperscale.targets.local" in graph["hyperscale.deploy.core"] or any(
        "hyperscale.targets" in t for t in graph["hyperscale.deploy.core"]
    )
    assert cycles(graph) == []


def test_no_module_is_long_without_saying_why() -> None:
    long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if len(lines) > MAX_LINES and not any(line.startswith(LONG_REASON) for line in lines[:5]):
            long.append(f"{path.relative_to(PACKAGE.parent)}: {len(lines)} lines")
    assert long == []


def test_only_for_env_reads_the_target_kind() -> None:
    """`deploy`, `status`, `local` and `render` ask hyperscale.targets; none compares kinds."""
    readers = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).as_posix()
        if (
            relative.startswith("hyperscale/config/")
            or relative == "hyperscale/targets/__init__.py"
        ):
            continue  # the model that defines the kind, and for_env itself
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "kind"
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "target"
            ):
                readers.append(f"{relative}:{node.lineno}")
    assert readers == []


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=tree,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_layer_contracts_hold(tmp_path: Path) -> None:
    shutil.copytree(PACKAGE, tmp_path / "hyperscale")
    shutil.copy(PACKAGE.parent / "pyproject.toml", tmp_path)
    result = _lint_imports(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "wrong_way", "contract"),
    [
        # an adapter importing logic
        ("clients/http.py", "from hyperscale.deploy import core", "root cli -> domains"),
        # an SDK imported outside the adapters
        ("deploy/core.py", "import boto3", "SDKs are imported only in hyperscale.clients"),
        # core printing through the CLI plumbing
        ("smoke/core.py", "from hyperscale import boundary", "core modules return typed results"),
    ],
)
def test_a_wrong_way_import_breaks_the_contracts(
    tmp_path: Path, module: str, wrong_way: str, contract: str
) -> None:
    shutil.copytree(PACKAGE, tmp_path / "hyperscale")
    shutil.copy(PACKAGE.parent / "pyproject.toml", tmp_path)
    target = tmp_path / "hyperscale" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{wrong_way}  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), result.stdout
