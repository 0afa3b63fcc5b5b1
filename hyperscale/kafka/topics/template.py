"""The desired topics of an environment, rendered from templates/kafka/topics.yaml.j2."""

from __future__ import annotations

import fnmatch

from pydantic import BaseModel, ConfigDict, Field

from hyperscale.clients.kafka.models import NewTopicSpec
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import ConfigError
from hyperscale.templating import render

TEMPLATE = "kafka/topics.yaml.j2"

#: Never managed, whatever a glob says: the broker's own topics (``__consumer_offsets``,
#: ``__transaction_state``, ``__share_group_state``...) and the ``_``-prefixed ones tools keep
#: (``_schemas``, ``_confluent-*``).
INTERNAL_PREFIX = "_"


class TopicSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    partitions: int = Field(ge=1, le=10_000)
    replication_factor: int = Field(ge=1, le=7)
    config: dict[str, str] = Field(default_factory=dict)

    def new_topic(self) -> NewTopicSpec:
        """The topic as the admin API creates it."""
        return NewTopicSpec(self.name, self.partitions, self.replication_factor, dict(self.config))


class TopicsTemplate(BaseModel):
    """The rendered template: the desired topics, and the names this template owns."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[TopicSpec]
    #: Globs (fnmatch, whole name) of the topics this template manages: `topics apply --prune`
    #: may delete a topic that matches one and is not in ``topics``. Empty: prune deletes nothing.
    managed: list[str] = Field(default_factory=list)

    def manages(self, name: str) -> bool:
        """True for a non-internal topic this template owns (listed, or matching a glob)."""
        if name.startswith(INTERNAL_PREFIX):
            return False
        return any(t.name == name for t in self.topics) or any(
            fnmatch.fnmatchcase(name, glob) for glob in self.managed
        )


def topics_template(env: Environment, app: AppContext) -> TopicsTemplate:
    import yaml
    from pydantic import ValidationError

    text = render(app, TEMPLATE, env=env)
    try:
        template = TopicsTemplate.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(
            f"templates/{TEMPLATE} rendered for {env.name} is invalid: {exc}"
        ) from None
    names = [t.name for t in template.topics]
    if len(set(names)) != len(names):
        raise ConfigError(f"templates/{TEMPLATE} defines a topic twice for {env.name}")
    internal = [n for n in names if n.startswith(INTERNAL_PREFIX)]
    if internal:
        raise ConfigError(
            f"templates/{TEMPLATE} defines {internal[0]!r} for {env.name}: names starting"
            f" with {INTERNAL_PREFIX!r} are internal to Kafka and its tools"
        )
    return template


def desired_topics(env: Environment, app: AppContext) -> list[TopicSpec]:
    return topics_template(env, app).topics
