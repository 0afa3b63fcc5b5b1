"""What each identity of an environment may do on Kafka, as ACLs: the desired state that
`hyperscale kafka acls` plans against the cluster's.

- the API writes orders and marketing events;
- the consumer reads both in its group, reads their retention settings (it keeps its
  processed-events table as long as the topics keep records), and writes their dead-letter
  topics;
- the operators (``kafka.security``'s SCRAM user, when it has one) may do anything: topics as
  code, lag, dead-letter replay (transactions), and these ACLs themselves.

A principal listed here is *managed*: an ACL of it that is not listed is an extra, reported
as drift and removed only when pruning.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hyperscale.clients.kafka.models import AclRule
from hyperscale.config.models import Environment
from hyperscale.errors import ConfigError

#: Kafka's name for the one cluster resource.
CLUSTER = "kafka-cluster"
#: Kafka's wildcard resource name (a LITERAL pattern matching every name).
EVERY = "*"


class AclAction(StrEnum):
    CREATE = "create"
    #: Not granted by the environment; deleted (pruning).
    DELETE = "delete"
    #: Not granted by the environment; kept (not pruning), reported as drift.
    EXTRA = "extra"
    KEEP = "keep"


@dataclass(frozen=True, order=True)
class AclChange:
    rule: AclRule
    action: AclAction

    def to_data(self) -> dict[str, str]:
        return {"action": self.action.value, **self.rule.to_data()}


def principal(username: str) -> str:
    return f"User:{username}"


def desired_acls(env: Environment) -> list[AclRule]:
    access = env.kafka.services
    if access is None:
        raise ConfigError(
            f"environment {env.name} gives its services no Kafka identities of their own",
            hint="add kafka.services (api and consumer SCRAM users) to the environment file",
        )
    topics = env.kafka.topics
    sources = (topics.orders, topics.events)
    api, consumer = principal(access.api.username), principal(access.consumer.username)
    rules = [AclRule(api, "TOPIC", t, op) for t in sources for op in ("WRITE", "DESCRIBE")]
    rules += [
        AclRule(consumer, "TOPIC", t, op)
        for t in sources
        for op in ("READ", "DESCRIBE", "DESCRIBE_CONFIGS")
    ]
    rules += [
        AclRule(consumer, "TOPIC", t + topics.dead_letter_suffix, op)
        for t in sources
        for op in ("WRITE", "DESCRIBE")
    ]
    rules.append(AclRule(consumer, "GROUP", env.kafka.consumer_group, "READ"))
    operators = env.kafka.security.username
    if operators:
        ops = principal(operators)
        rules += [
            AclRule(ops, kind, EVERY, "ALL") for kind in ("TOPIC", "GROUP", "TRANSACTIONAL_ID")
        ]
        rules.append(AclRule(ops, "CLUSTER", CLUSTER, "ALL"))
    return sorted(set(rules))


def managed_principals(rules: list[AclRule]) -> list[str]:
    return sorted({r.principal for r in rules})


def plan_acls(desired: list[AclRule], live: list[AclRule], *, prune: bool) -> list[AclChange]:
    """Each desired ACL kept or created; each live ACL of a managed principal that is not
    desired deleted (``prune``) or reported as an extra. Sorted by rule."""
    wanted, found = set(desired), set(live)
    extra = AclAction.DELETE if prune else AclAction.EXTRA
    changes = [AclChange(r, AclAction.KEEP if r in found else AclAction.CREATE) for r in wanted]
    changes += [AclChange(r, extra) for r in found - wanted]
    return sorted(changes)
