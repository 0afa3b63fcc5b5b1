"""Where an environment requires chaos.opt_in_label of a drill's targets (staging, prod), the
platform's workloads carry it on their pods, so `chaos kill-pods` there finds them; the
selectors stay as they were (a Deployment's selector is immutable)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hyperscale.config.loader import parse_environment_file
from hyperscale.context import PROJECT_ROOT
from hyperscale.render.templates import render_all
from hyperscale.render.values import template_values

WORKLOADS = {"api/deployment.yaml": "platform-api", "consumer/deployment.yaml": "platform-consumer"}


def _deployments(name: str) -> dict[str, dict[str, Any]]:
    env = parse_environment_file(PROJECT_ROOT / "environments" / f"{name}.yaml")
    rendered = {
        f.relative.as_posix(): f.text
        for f in render_all(PROJECT_ROOT / "templates", template_values(env))
    }
    return {path: yaml.safe_load(rendered[path]) for path in WORKLOADS}


@pytest.mark.parametrize("name", ["staging", "prod"])
def test_the_platforms_pods_carry_the_opt_in_label_where_it_is_required(name: str) -> None:
    env = parse_environment_file(PROJECT_ROOT / "environments" / f"{name}.yaml")
    assert env.chaos.opt_in_label == "hyperscale.dev/chaos=opt-in"
    for path, deployment in _deployments(name).items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        # Exactly what the drill's filter asks for (chaos.core.plan_kills: key=value).
        assert (
            f"hyperscale.dev/chaos={pod_labels['hyperscale.dev/chaos']}" == env.chaos.opt_in_label
        )
        assert "hyperscale.dev/chaos" not in deployment["spec"]["selector"]["matchLabels"]
        assert "hyperscale.dev/chaos" not in deployment["metadata"]["labels"]
        # What is committed for GitOps says the same (its freshness is tested elsewhere).
        committed = yaml.safe_load(
            (PROJECT_ROOT / "manifests" / name / path).read_text(encoding="utf-8")
        )
        assert committed["spec"]["template"]["metadata"]["labels"] == pod_labels


def test_the_sandbox_requires_no_label_and_adds_none() -> None:
    for deployment in _deployments("sandbox").values():
        assert "hyperscale.dev/chaos" not in deployment["spec"]["template"]["metadata"]["labels"]
