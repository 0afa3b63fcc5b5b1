"""`hyperscale chaos db-failover` on an environment with an AWS account: RebootDBInstance with
ForceFailover through boto3, against the local moto server (staging's file, its endpoint pointed
at moto through boto3's AWS_ENDPOINT_URL_RDS).

What moto cannot show: its RebootDBInstance is a no-op. The instance never goes through
"rebooting", no standby takes over (moto keeps no SecondaryAvailabilityZone and the primary
stays in its zone), no DNS name moves, no connection drops, and DescribeEvents has no
RDS-EVENT-0049 (failover completed). So here the drill reaches RDS, is refused or planned as it
should be, and honestly ends deviated: "the primary moved to another zone" fails. How long a
real failover takes, and what the platform sees meanwhile, needs a real Multi-AZ instance."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from tests.conftest import invoke, moto_client

pytestmark = pytest.mark.aws

INSTANCE = "hyperscale-staging"


@pytest.fixture
def staging_on_moto(
    local_services: Environment, isolated_app: AppContext, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """staging.yaml as it is, boto3's RDS endpoint pointed at moto (an environment file may
    name moto only for the local target; boto3's own AWS_ENDPOINT_URL_RDS does it here)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", str(local_services.aws.endpoint_url))
    data = yaml.safe_load(
        (isolated_app.environments_dir / "staging.yaml").read_text(encoding="utf-8")
    )
    staging = local_services.model_copy(
        update={"aws": local_services.aws.model_copy(update={"region": data["aws"]["region"]})}
    )
    rds = moto_client(staging, "rds")
    existing = {d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]}
    if INSTANCE in existing:
        rds.delete_db_instance(DBInstanceIdentifier=INSTANCE, SkipFinalSnapshot=True)
    rds.create_db_instance(
        DBInstanceIdentifier=INSTANCE, DBInstanceClass="db.r6g.large", Engine="mysql",
        AllocatedStorage=100, MasterUsername="admin", MasterUserPassword="moto-only-pw",
        MultiAZ=True,
    )  # fmt: skip
    yield rds
    rds.delete_db_instance(DBInstanceIdentifier=INSTANCE, SkipFinalSnapshot=True)


def _failover(app: AppContext, *args: str) -> Any:
    return invoke(app, "chaos", "db-failover", "--env", "staging", "-o", "json", *args)


def test_rds_failover_reaches_moto_and_says_what_it_could_not_see(
    isolated_app: AppContext, staging_on_moto: Any
) -> None:
    zone = staging_on_moto.describe_db_instances(DBInstanceIdentifier=INSTANCE)["DBInstances"][0][
        "AvailabilityZone"
    ]
    planned = _failover(isolated_app, "--dry-run")
    assert planned.exit_code == 0, planned.stderr
    plan = json.loads(planned.stdout)["data"]
    assert (plan["instance"], plan["multi_az"], plan["zone"]) == (INSTANCE, True, zone)

    outcome = _failover(isolated_app, "--recovery-timeout", "2s")
    assert outcome.exit_code == 1, outcome.stdout + outcome.stderr
    report = json.loads(outcome.stdout)["data"]
    assert report["verdict"] == "deviated"
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["steady state before: available, Multi-AZ"]["ok"]
    assert checks["available again"]["ok"]
    moved = checks["the primary moved to another zone (the standby took over)"]
    assert not moved["ok"]  # moto's reboot moves nothing
    assert moved["detail"] == f"{zone} -> {zone}"
    assert any("RebootDBInstance accepted" in e["what"] for e in report["timeline"])
    assert report["measurements"]["statuses_seen"] == "available"


def test_a_single_az_instance_is_refused_before_anything(
    isolated_app: AppContext, staging_on_moto: Any
) -> None:
    staging_on_moto.modify_db_instance(
        DBInstanceIdentifier=INSTANCE, MultiAZ=False, ApplyImmediately=True
    )
    outcome = _failover(isolated_app)
    assert outcome.exit_code == 2
    assert "not Multi-AZ" in outcome.stderr
    assert "Traceback" not in outcome.stderr
