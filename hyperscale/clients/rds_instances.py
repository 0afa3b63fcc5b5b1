"""An environment's RDS instance as a failover drill sees it (`hyperscale chaos db-failover` on
environments with an AWS account): its state and zones, a reboot with failover to the Multi-AZ
standby (RebootDBInstance, ForceFailover), and the instance's events since a moment. Errors come
back as hyperscale's through ``aws_errors``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.aws import aws_client, aws_errors
from hyperscale.config.models import Aws


@dataclass(frozen=True)
class RdsInstance:
    id: str
    status: str
    multi_az: bool
    #: Where the primary runs, and the standby (Multi-AZ; None where RDS does not say).
    zone: str
    standby_zone: str | None
    engine: str


def _instance(raw: dict[str, Any]) -> RdsInstance:
    return RdsInstance(
        id=raw["DBInstanceIdentifier"],
        status=raw.get("DBInstanceStatus", ""),
        multi_az=bool(raw.get("MultiAZ")),
        zone=raw.get("AvailabilityZone", ""),
        standby_zone=raw.get("SecondaryAvailabilityZone"),
        engine=raw.get("Engine", ""),
    )


def describe_instance(aws: Aws, instance: str) -> RdsInstance | None:
    """The instance, or None when there is no such instance."""
    rds = aws_client(aws, "rds")
    with aws_errors(aws, f"describing RDS instance {instance}"):
        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=instance)["DBInstances"]
        except rds.exceptions.DBInstanceNotFoundFault:
            return None
    return _instance(found[0]) if found else None


def reboot_with_failover(aws: Aws, instance: str) -> RdsInstance:
    """RebootDBInstance with ForceFailover: the standby becomes the primary (Multi-AZ only)."""
    rds = aws_client(aws, "rds")
    with aws_errors(aws, f"rebooting RDS instance {instance} with failover"):
        answer = rds.reboot_db_instance(DBInstanceIdentifier=instance, ForceFailover=True)
    return _instance(answer["DBInstance"])


def instance_events(aws: Aws, instance: str, since: dt.datetime) -> list[str]:
    """The instance's events since ``since`` (``RDS-EVENT-0049 Multi-AZ instance failover
    completed``...), oldest first, as ``time message``."""
    rds = aws_client(aws, "rds")
    with aws_errors(aws, f"reading the events of RDS instance {instance}"):
        events = rds.describe_events(
            SourceIdentifier=instance, SourceType="db-instance", StartTime=since
        )["Events"]
    return [f"{e.get('Date', '')} {e.get('Message', '')}".strip() for e in events]
