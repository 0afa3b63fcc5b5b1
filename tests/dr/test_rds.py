"""`dr backup|backups` on an environment with an AWS account: manual RDS snapshots, tagged,
with retention. moto's in-process mock stands in for RDS here: a snapshot of a real RDS
instance cannot exist on this machine (the local moto server covers the other AWS tests; the
in-process mock keeps staging's real region and account without an endpoint override)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hyperscale.context import AppContext
from tests.conftest import invoke


@pytest.fixture
def rds(isolated_app: AppContext) -> Iterator[Any]:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("rds", region_name="eu-west-1")
        client.create_db_instance(
            DBInstanceIdentifier="hyperscale-staging",
            DBInstanceClass="db.r6g.large",
            Engine="mysql",
            AllocatedStorage=100,
            MasterUsername="admin",
            MasterUserPassword="not-a-real-one-1",
        )
        client.create_db_snapshot(  # someone else's snapshot: retention never touches it
            DBSnapshotIdentifier="manual-by-a-person", DBInstanceIdentifier="hyperscale-staging"
        )
        yield client


def _backup(app: AppContext, *args: str) -> dict[str, Any]:
    outcome = invoke(app, "dr", "backup", "--env", "staging", "-o", "json", *args)
    assert outcome.exit_code == 0, outcome.stderr
    return json.loads(outcome.stdout)["data"]


def test_backup_takes_a_tagged_snapshot_and_retention_deletes_only_its_own(
    isolated_app: AppContext, rds: Any
) -> None:
    first = _backup(isolated_app)["backup"]
    assert first["kind"] == "rds-snapshot"
    assert first["id"].startswith("hyperscale-staging-dr-")
    assert first["size_bytes"] == 100 * 1024**3
    described = rds.describe_db_snapshots(DBSnapshotIdentifier=first["id"])["DBSnapshots"][0]
    assert described["Status"] == "available"

    # A second one a second later (ids carry the second), then keep only the newest.
    import time

    time.sleep(1.1)
    second = _backup(isolated_app, "--keep", "1")
    assert second["pruned"] == [first["id"]]
    manual = rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]
    names = {s["DBSnapshotIdentifier"] for s in manual}
    assert names == {second["backup"]["id"], "manual-by-a-person"}

    listed = invoke(isolated_app, "dr", "backups", "--env", "staging", "-o", "json")
    assert [b["id"] for b in json.loads(listed.stdout)["data"]["backups"]] == [
        second["backup"]["id"]
    ]


def test_restoring_on_an_aws_environment_says_it_is_not_built(
    isolated_app: AppContext, rds: Any
) -> None:
    outcome = invoke(isolated_app, "dr", "restore", "--env", "staging")
    assert outcome.exit_code == 2
    assert "RDS snapshot is not built yet" in outcome.stderr
