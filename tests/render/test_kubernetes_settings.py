"""The environment's optional `kubernetes:` section: defaulted, strictly checked, and used."""

from __future__ import annotations

from pathlib import Path

import pytest

from hyperscale.config.loader import parse_environment_file
from hyperscale.errors import ConfigError
from hyperscale.render.values import template_values

REPO = Path(__file__).resolve().parents[2]


def with_section(tmp_path: Path, name: str, section: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    text = (REPO / "environments" / f"{name}.yaml").read_text(encoding="utf-8")
    path.write_text(text + section, encoding="utf-8")
    return path


def test_section_is_optional_and_overrides_sizing(tmp_path: Path) -> None:
    env = parse_environment_file(
        with_section(
            tmp_path,
            "staging",
            "kubernetes:\n  image_tag: 3f2a9c1\n  api: {min_replicas: 6, max_replicas: 30}\n",
        )
    )
    values = template_values(env)
    assert env.kubernetes.consumer.min_replicas == 3  # the default
    assert (
        values["images"]["api"]
        == "345678901234.dkr.ecr.eu-west-1.amazonaws.com/hyperscale/api:3f2a9c1"
    )
    assert values["irsa"]["api"] == "arn:aws:iam::345678901234:role/hyperscale-staging-platform-api"


@pytest.mark.parametrize(
    ("section", "expected"),
    [
        (
            "kubernetes:\n  api: {min_replicas: 9, max_replicas: 3}\n",
            "staging.yaml:{api_line}: kubernetes.api: min_replicas 9 exceeds max_replicas",
        ),
        ("kubernetes:\n  vpc_cidr: 10.0.0.0/33\n", "kubernetes: vpc_cidr must be a network"),
        (
            "kubernetes:\n  replicas: 3\n",
            "kubernetes.replicas: unknown key; allowed keys here: api, consumer,",
        ),
        (
            "kubernetes:\n  consumer: {cpu_limit: lots}\n",
            "kubernetes.consumer.cpu_limit: String should match pattern",
        ),
    ],
)
def test_mistakes_name_the_file_line_and_key(tmp_path: Path, section: str, expected: str) -> None:
    path = with_section(tmp_path, "staging", section)
    # The line of `api:`, the section's second line, wherever the file ends today.
    api_line = len(path.read_text(encoding="utf-8").splitlines()) - section.count("\n") + 2
    with pytest.raises(ConfigError) as caught:
        parse_environment_file(path)
    assert expected.format(api_line=api_line) in " ".join(caught.value.lines())


def test_local_target_takes_no_kubernetes_section(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_environment_file(with_section(tmp_path, "local", "kubernetes:\n  image_tag: x\n"))
    assert "kubernetes: applies only to a kubernetes target" in " ".join(caught.value.lines())
