"""The environment file's `infra:` section: checked like every other key, one line per error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from hyperscale.config.loader import load_environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError


def _load_edited(app: AppContext, name: str, edit: Callable[[dict[str, Any]], None]) -> str:
    path = app.environments_dir / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        load_environment(app, name)
    return "\n".join(caught.value.lines())


def test_zones_must_be_in_the_environments_region(isolated_app: AppContext) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["infra"]["availability_zones"] = ["eu-west-1a", "eu-west-1b", "us-east-1a"]

    message = _load_edited(isolated_app, "staging", edit)
    assert "infra.availability_zones" in message
    assert "us-east-1a is not in aws.region eu-west-1" in message


def test_node_group_sizes_must_be_ordered(isolated_app: AppContext) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["infra"]["node_group"]["desired_size"] = 99

    message = _load_edited(isolated_app, "prod", edit)
    assert "min_size <= desired_size <= max_size" in message


def test_cdn_aliases_need_a_certificate(isolated_app: AppContext) -> None:
    def edit(data: dict[str, Any]) -> None:
        del data["infra"]["cdn_certificate_arn"]

    message = _load_edited(isolated_app, "prod", edit)
    assert "cdn_aliases need cdn_certificate_arn" in message


def test_a_local_targets_infra_section_is_checked_like_any_other(
    isolated_app: AppContext,
) -> None:
    """local-aws: a local target with an `infra:` section (the stack on the moto endpoint)."""

    def edit(data: dict[str, Any]) -> None:
        data["infra"]["availability_zones"] = ["us-east-1a", "us-east-1b", "eu-west-1a"]

    message = _load_edited(isolated_app, "local-aws", edit)
    assert "eu-west-1a is not in aws.region us-east-1" in message


def test_exclusions_name_modules_of_the_stack(isolated_app: AppContext) -> None:
    from hyperscale.infra.stack import excluded_components, load_stack

    stack = load_stack(AppContext().live_dir("staging"))
    found = excluded_components(stack, {"msk": "moto has no MSK configurations"})
    # iam-irsa needs msk's ARN, alb-ingress the IRSA role, cloudfront the ALB.
    assert found == {
        "msk": "excluded: moto has no MSK configurations",
        "iam-irsa": "excluded: needs msk, excluded here",
        "alb-ingress": "excluded: needs iam-irsa, excluded here",
        "cloudfront": "excluded: needs alb-ingress, excluded here",
    }
