"""The desired topics of an environment, rendered from templates/kafka/topics.yaml.j2."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from hyperscale.templating import render

TEMPLATE = "kafka/topics.yaml.j2"


class TopicSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    partitions: int = Field(ge=1, le=10_000)
    replication_factor: int = Field(ge=1, le=7)
    config: dict[str, str] = Field(default_factory=dict)


class TopicPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[TopicSpec]


def desired_topics(env: Environment, app: AppContext) -> list[TopicSpec]:
    import yaml
    from pydantic import ValidationError

    text = render(app, TEMPLATE, env=env)
    try:
        plan = TopicPlan.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(
            f"templates/{TEMPLATE} rendered for {env.name} is invalid: {exc}"
        ) from None
    names = [t.name for t in plan.topics]
    if len(set(names)) != len(names):
        raise ConfigError(f"templates/{TEMPLATE} defines a topic twice for {env.name}")
    return plan.topics
