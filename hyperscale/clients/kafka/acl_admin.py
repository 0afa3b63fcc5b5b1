"""The admin calls behind `hyperscale kafka acls` and the local broker's SCRAM users: read the
ACLs of some principals, create and delete ACLs, create or update SCRAM credentials. Each is one
batched request."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hyperscale.clients.kafka.admin import KafkaAdmin
from hyperscale.clients.kafka.errors import failure_of, unreachable_error
from hyperscale.clients.kafka.models import AclRule
from hyperscale.errors import ExternalSystemError

#: Kafka calls the cluster resource CLUSTER; librdkafka's enum calls it BROKER.
_LIBRDKAFKA_RESOURCE = {"CLUSTER": "BROKER"}
_KAFKA_RESOURCE = {v: k for k, v in _LIBRDKAFKA_RESOURCE.items()}
#: SCRAM iterations for new credentials: Kafka's minimum is 4096; the brokers' default.
SCRAM_ITERATIONS = 8192


class AclAdmin(KafkaAdmin):
    def acls_of(self, principals: Iterable[str]) -> list[AclRule]:
        """Every ACL that names one of ``principals`` (one request for all of them)."""
        from confluent_kafka.admin._acl import AclBindingFilter, AclOperation, AclPermissionType
        from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

        wanted = set(principals)
        # None matches any name, principal and host (librdkafka's documented filter).
        everything = AclBindingFilter(
            ResourceType.ANY,
            None,  # type: ignore[arg-type]
            ResourcePatternType.ANY,
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        try:
            bindings = self.admin.describe_acls(everything, request_timeout=self.timeout).result(
                timeout=self.timeout + 5
            )
        except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
            raise self._acl_error(exc, "reading the ACLs") from None
        return sorted(_rule(b) for b in bindings if b.principal in wanted)

    def create_acls(self, rules: list[AclRule]) -> None:
        if not rules:
            return
        futures = self.admin.create_acls([_binding(r) for r in rules], request_timeout=self.timeout)
        self._settle(futures, "creating")

    def delete_acls(self, rules: list[AclRule]) -> None:
        """Delete exactly these ACLs (each filter matches one binding, nothing wider)."""
        if not rules:
            return
        futures = self.admin.delete_acls(
            [_binding(r, as_filter=True) for r in rules], request_timeout=self.timeout
        )
        self._settle(futures, "deleting")

    def upsert_scram_users(self, passwords: dict[str, str], mechanism: str) -> None:
        """Create each SCRAM user, or set its password (a broker that keeps its own users; MSK
        takes them from Secrets Manager instead)."""
        from confluent_kafka.admin._scram import (
            ScramCredentialInfo,
            ScramMechanism,
            UserScramCredentialUpsertion,
        )

        info = ScramCredentialInfo(ScramMechanism[mechanism.replace("-", "_")], SCRAM_ITERATIONS)
        futures = self.admin.alter_user_scram_credentials(
            [UserScramCredentialUpsertion(u, info, p.encode()) for u, p in passwords.items()],
            request_timeout=self.timeout,
        )
        for user, future in futures.items():
            try:
                future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                raise self._acl_error(exc, f"setting the SCRAM credentials of {user}") from None

    def _settle(self, futures: dict[Any, Any], verb: str) -> None:
        """Wait for each ACL's answer; the first refusal names its ACL."""
        for binding, future in futures.items():
            try:
                future.result(timeout=self.timeout + 5)
            except Exception as exc:  # noqa: BLE001 - KafkaException or a future timeout
                what = f"{verb} the ACL {_rule(binding).describe()}"
                raise self._acl_error(exc, what) from None

    def _acl_error(self, problem: object, what: str) -> ExternalSystemError:
        failure = failure_of(problem)
        if failure.name == "SECURITY_DISABLED":
            return ExternalSystemError(
                f"{what} on {self.bootstrap}: the cluster has no authorizer, so it keeps no ACLs",
                hint="set authorizer.class.name on the brokers (MSK: SASL/SCRAM or IAM"
                " authentication enables it)",
            )
        if failure.name in {"CLUSTER_AUTHORIZATION_FAILED", "SASL_AUTHENTICATION_FAILED"}:
            return ExternalSystemError(
                f"{what} on {self.bootstrap}: refused ({failure.text})",
                hint="the operators' identity (kafka.security) needs ALTER and DESCRIBE on the"
                " cluster",
            )
        return unreachable_error(self.bootstrap, problem, what)


def _rule(binding: Any) -> AclRule:
    resource = binding.restype.name
    return AclRule(
        principal=binding.principal,
        resource_type=_KAFKA_RESOURCE.get(resource, resource),
        resource_name=binding.name,
        operation=binding.operation.name,
        pattern_type=binding.resource_pattern_type.name,
        permission=binding.permission_type.name,
        host=binding.host,
    )


def _binding(rule: AclRule, *, as_filter: bool = False) -> Any:
    from confluent_kafka.admin._acl import (
        AclBinding,
        AclBindingFilter,
        AclOperation,
        AclPermissionType,
    )
    from confluent_kafka.admin._resource import ResourcePatternType, ResourceType

    kind = AclBindingFilter if as_filter else AclBinding
    return kind(
        ResourceType[_LIBRDKAFKA_RESOURCE.get(rule.resource_type, rule.resource_type)],
        rule.resource_name,
        ResourcePatternType[rule.pattern_type],
        rule.principal,
        rule.host,
        AclOperation[rule.operation],
        AclPermissionType[rule.permission],
    )
