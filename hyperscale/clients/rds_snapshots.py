"""Manual RDS snapshots of an environment's database instance (`hyperscale dr backup` on
environments with an AWS account): take one and wait for it, list those hyperscale took (by
tag), delete one. Errors come back as hyperscale's through ``aws_errors``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.aws import aws_client, aws_errors
from hyperscale.config.models import Aws

#: The tag every snapshot hyperscale takes carries; retention only ever deletes those.
DR_TAG = "hyperscale:dr"


@dataclass(frozen=True)
class RdsSnapshot:
    id: str
    instance: str
    created: dt.datetime | None
    status: str
    allocated_gb: int
    engine: str


def _snapshot(raw: dict[str, Any]) -> RdsSnapshot:
    return RdsSnapshot(
        id=raw["DBSnapshotIdentifier"],
        instance=raw.get("DBInstanceIdentifier", ""),
        created=raw.get("SnapshotCreateTime"),
        status=raw.get("Status", ""),
        allocated_gb=int(raw.get("AllocatedStorage", 0)),
        engine=raw.get("Engine", ""),
    )


def take_snapshot(aws: Aws, instance: str, snapshot_id: str, timeout: float = 3600) -> RdsSnapshot:
    """CreateDBSnapshot, then wait until it is available."""
    rds = aws_client(aws, "rds")
    with aws_errors(aws, f"snapshotting RDS instance {instance}"):
        created = rds.create_db_snapshot(
            DBSnapshotIdentifier=snapshot_id,
            DBInstanceIdentifier=instance,
            Tags=[{"Key": DR_TAG, "Value": "true"}],
        )["DBSnapshot"]
        if created.get("Status") != "available":
            rds.get_waiter("db_snapshot_available").wait(
                DBSnapshotIdentifier=snapshot_id,
                WaiterConfig={"Delay": 15, "MaxAttempts": max(1, int(timeout // 15))},
            )
        found = rds.describe_db_snapshots(DBSnapshotIdentifier=snapshot_id)["DBSnapshots"]
    return _snapshot(found[0] if found else created)


def dr_snapshots(aws: Aws, instance: str) -> list[RdsSnapshot]:
    """The manual snapshots of ``instance`` hyperscale took, newest first."""
    rds = aws_client(aws, "rds")
    with aws_errors(aws, f"listing the snapshots of RDS instance {instance}"):
        pages = rds.get_paginator("describe_db_snapshots").paginate(
            DBInstanceIdentifier=instance, SnapshotType="manual"
        )
        found = [s for page in pages for s in page["DBSnapshots"]]
        ours = []
        for raw in found:
            tags = rds.list_tags_for_resource(ResourceName=raw["DBSnapshotArn"])["TagList"]
            if any(t["Key"] == DR_TAG for t in tags):
                ours.append(_snapshot(raw))
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(ours, key=lambda s: s.created or epoch, reverse=True)


def delete_snapshot(aws: Aws, snapshot_id: str) -> None:
    rds = aws_client(aws, "rds")
    with aws_errors(aws, f"deleting RDS snapshot {snapshot_id}"):
        rds.delete_db_snapshot(DBSnapshotIdentifier=snapshot_id)
