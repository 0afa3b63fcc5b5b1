"""ci-cd/helm-charts/hyperscale-platform: `helm lint` (helm built from its Go module), and
`helm template` with an environment's values giving exactly the objects `hyperscale render` wrote
to manifests/<env>/ (modulo ordering): the chart carries the rendered manifests, one source."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.checkers import REPO, check, tool

CHART = REPO / "ci-cd" / "helm-charts" / "hyperscale-platform"
NOT_OBJECTS = ("argocd", "alertmanager")  # what ArgoCD's sync leaves out too


def _key(document: dict[str, Any]) -> tuple[str, str, str, str]:
    metadata = document.get("metadata", {})
    return (
        document.get("apiVersion", ""),
        document.get("kind", ""),
        metadata.get("namespace", ""),
        metadata.get("name", ""),
    )


def _objects(text: str) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    objects = {}
    for document in yaml.safe_load_all(text):
        if document:
            assert _key(document) not in objects, f"{_key(document)} twice"
            objects[_key(document)] = document
    return objects


def _rendered(environment: str) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    root = REPO / "manifests" / environment
    files = [
        path
        for path in sorted(root.rglob("*.yaml"))
        if path.relative_to(root).parts[0] not in NOT_OBJECTS
    ]
    return _objects("\n---\n".join(path.read_text() for path in files))


def _copy_chart(tmp_path: Path) -> Path:
    """The chart with its links to manifests/<env> kept pointing at this checkout's."""
    copy = tmp_path / "hyperscale-platform"
    shutil.copytree(CHART, copy, symlinks=True)
    for link in (copy / "files").iterdir():
        link.unlink()
        link.symlink_to(REPO / "manifests" / link.name)
    return copy


@pytest.mark.parametrize("environment", ["sandbox", "staging", "prod"])
def test_helm_template_equals_the_rendered_manifests(environment: str) -> None:
    done = check(
        [
            tool("helm"),
            "template",
            f"hyperscale-{environment}",
            CHART,
            "-f",
            CHART / f"values-{environment}.yaml",
        ]
    )
    assert done.returncode == 0, done.output
    # helm notes each symbolic link it follows on stderr; the objects are the YAML documents.
    documents = "\n".join(
        line for line in done.output.splitlines() if not line.startswith("walk.go")
    )
    from_helm, rendered = _objects(documents), _rendered(environment)
    assert len(rendered) > 20
    assert sorted(from_helm) == sorted(rendered)
    assert from_helm == rendered


def test_helm_lint_passes_for_every_environment() -> None:
    helm = tool("helm")
    for environment in ("sandbox", "staging", "prod"):
        done = check([helm, "lint", "--strict", CHART, "-f", CHART / f"values-{environment}.yaml"])
        assert done.returncode == 0, done.output
        assert "0 chart(s) failed" in done.output


def test_helm_lint_rejects_a_chart_without_a_version(tmp_path: Path) -> None:
    copy = _copy_chart(tmp_path)
    chart_yaml = copy / "Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("version: 0.1.0\n", ""))
    done = check([tool("helm"), "lint", copy, "-f", copy / "values-prod.yaml"])
    assert done.returncode != 0, done.output
    assert "version" in done.output


def test_an_unknown_environment_is_refused_naming_the_ones_it_carries() -> None:
    done = check([tool("helm"), "template", "x", CHART, "--set", "environment=qa"])
    assert done.returncode != 0, done.output
    assert 'environment "qa": the chart carries sandbox, staging and prod' in done.output
    done = check([tool("helm"), "template", "x", CHART])
    assert done.returncode != 0, done.output
    assert "set environment" in done.output
