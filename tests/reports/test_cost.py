"""`hyperscale report cost` on Cost Explorer results seeded into moto through its API
(moto serves GetCostAndUsage only from a queue of seeded answers), the savings findings on
moto-made resources, and the forecast through botocore's Stubber (moto has no
GetCostForecast: it answers 500, which is also how the fallback is exercised)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
import urllib.request
import uuid
from decimal import Decimal
from typing import Any

import pytest

from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.reports.cost.core import CostQuery, cost_report, windows
from tests.conftest import invoke, moto_client

pytestmark = [pytest.mark.aws]

# The hand-computed fixture: as of 5 March 2026, month to date is 1-4 March, the same days of
# last month are 1-4 February, the last 7 days are 26 February - 4 March.
AS_OF = dt.date(2026, 3, 5)
DAILY = {
    # day range -> {service: amount per day}
    ("2026-02-01", "2026-02-05"): {
        "Amazon EC2": "10.004",
        "Amazon RDS": "5.5",
        "Amazon S3": "0.333",
    },
    ("2026-02-05", "2026-03-01"): {"Amazon EC2": "10"},
    ("2026-03-01", "2026-03-05"): {
        "Amazon EC2": "12.006",
        "Amazon RDS": "5.5",
        "Amazon S3": "0.001",
    },
}
# 4 x (12.006 + 5.5 + 0.001) = 70.028          -> $70.03
# 4 x (10.004 + 5.5 + 0.333) = 63.348          -> $63.35
# yesterday 12.006 + 5.5 + 0.001 = 17.507       -> $17.51
# last 7 days 3 x 10 + 70.028 = 100.028          -> $100.03
# movers: EC2 48.02 - 40.02 = +8.00; S3 0.00 - 1.33 = -1.33; RDS unchanged (left out)
# forecast, linear: 70.028 / 4 days x 31 days = 542.717 -> $542.72


def ce_result(start: dt.date, end: dt.date) -> dict[str, Any]:
    results = []
    day = start
    while day < end:
        groups = []
        for (first, last), services in DAILY.items():
            if first <= day.isoformat() < last:
                groups = [
                    {
                        "Keys": [name],
                        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
                    }
                    for name, amount in services.items()
                ]
        following = day + dt.timedelta(days=1)
        results.append(
            {
                "TimePeriod": {"Start": day.isoformat(), "End": following.isoformat()},
                "Total": {},
                "Groups": groups,
                "Estimated": False,
            }
        )
        day = following
    return {"ResultsByTime": results, "DimensionValueAttributes": []}


def seed_cost_explorer(env: Environment, result: dict[str, Any]) -> None:
    """moto's own API: the next GetCostAndUsage with a new request body gets ``result``."""
    request = urllib.request.Request(
        f"{str(env.aws.endpoint_url).rstrip('/')}/moto-api/static/ce/cost-and-usage-results",
        data=json.dumps({"results": [result]}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


@pytest.fixture
def seeded(local_services: Environment) -> Environment:
    w = windows(AS_OF)
    seed_cost_explorer(local_services, ce_result(w.read_start, w.as_of))
    return local_services


def test_windows_movers_and_forecast_are_right_to_the_cent(
    seeded: Environment, isolated_app: AppContext
) -> None:
    outcome = invoke(
        isolated_app, "report", "cost", "--as-of", AS_OF.isoformat(), "--no-findings", "-o", "json"
    )
    assert outcome.exit_code == 0, outcome.stderr
    data = json.loads(outcome.stdout)["data"]
    periods = {p["name"]: (p["start"], p["end"], p["amount"]) for p in data["periods"]}
    assert periods == {
        "month to date": ("2026-03-01", "2026-03-05", "70.03"),
        "same days last month": ("2026-02-01", "2026-02-05", "63.35"),
        "yesterday": ("2026-03-04", "2026-03-05", "17.51"),
        "last 7 days": ("2026-02-26", "2026-03-05", "100.03"),
    }
    assert data["month_change_pct"] == 10.5
    assert [(m["group"], m["change"]) for m in data["movers"]] == [
        ("Amazon EC2", "8.00"),
        ("Amazon S3", "-1.33"),
    ]
    assert data["forecast"]["source"] == "linear"
    assert data["forecast"]["month_total"] == "542.72"
    assert data["forecast"]["note"].startswith("Cost Explorer forecast unavailable")
    assert data["credits_excluded"] is True
    assert data["from_cache"] is False

    # The second run is answered from the cache (no new seed), and says how old it is.
    again = invoke(isolated_app, "report", "cost", "--as-of", AS_OF.isoformat(), "--no-findings")
    assert again.exit_code == 0, again.stderr
    assert "(by service; cached, data " in again.stdout
    assert "$70.03" in again.stdout
    assert "Amazon EC2" in again.stdout

    table = invoke(
        isolated_app, "report", "cost", "--as-of", AS_OF.isoformat(), "--no-findings", "-o", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert {"section": "period", "name": "month to date", "amount": "70.03"}.items() <= rows[
        0
    ].items()
    assert [r["amount"] for r in rows if r["section"] == "mover"] == ["8.00", "-1.33"]


def test_a_bad_group_by_is_a_usage_error(isolated_app: AppContext) -> None:
    outcome = invoke(isolated_app, "report", "cost", "--group-by", "team", "--no-findings")
    assert outcome.exit_code == 2
    assert outcome.stderr.startswith("error: --group-by 'team': write service or tag:KEY")


def test_the_request_excludes_credits_and_the_forecast_comes_from_cost_explorer(
    local_env: Environment, isolated_app: AppContext
) -> None:
    """botocore's Stubber stands in for Cost Explorer: moto cannot serve GetCostForecast, and
    the stub also proves the one GetCostAndUsage request carries the credits/refunds filter
    and groups by the tag asked for."""
    from botocore.stub import Stubber

    ce = moto_client(local_env, "ce")
    stubber = Stubber(ce)
    w = windows(AS_OF)
    not_credits = {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": ["Credit", "Refund"]}}}
    answer = ce_result(w.read_start, w.as_of)
    for period in answer["ResultsByTime"]:
        for group in period["Groups"]:
            group["Keys"] = [f"team${group['Keys'][0].split()[-1].lower()}"]
    stubber.add_response(
        "get_cost_and_usage",
        answer,
        {
            "TimePeriod": {"Start": "2026-02-01", "End": "2026-03-05"},
            "Granularity": "DAILY",
            "Metrics": ["UnblendedCost"],
            "GroupBy": [{"Type": "TAG", "Key": "team"}],
            "Filter": not_credits,
        },
    )
    stubber.add_response(
        "get_cost_forecast",
        {"Total": {"Amount": "455.5", "Unit": "USD"}, "ForecastResultsByTime": []},
        {
            "TimePeriod": {"Start": "2026-03-05", "End": "2026-04-01"},
            "Metric": "UNBLENDED_COST",
            "Granularity": "MONTHLY",
            "Filter": not_credits,
        },
    )
    with stubber:
        report = cost_report(
            local_env,
            isolated_app,
            CostQuery(as_of=AS_OF, group_by="tag:team", findings=False),
            make_client=lambda service: ce,
        )
    stubber.assert_no_pending_responses()
    assert report.forecast.source == "cost-explorer"
    assert report.forecast.month_total == Decimal("70.028") + Decimal("455.5")
    assert [m.group for m in report.movers] == ["team$ec2", "team$s3"]


def test_savings_findings_on_moto_resources(
    local_services: Environment, isolated_app: AppContext
) -> None:
    """Resources made in moto for this test; other tests' resources may be there too, so
    only ours are asserted."""
    env = local_services
    ec2 = moto_client(env, "ec2")
    zone = f"{env.aws.region}a"
    volume = ec2.create_volume(AvailabilityZone=zone, Size=100, VolumeType="gp2")["VolumeId"]
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro")[
        "Instances"
    ][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[instance])
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(
            VpcId=vpc, CidrBlock=f"10.77.{i}.0/24", AvailabilityZone=f"{env.aws.region}{z}"
        )["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    lb_name = f"idle-{uuid.uuid4().hex[:8]}"
    moto_client(env, "elbv2").create_load_balancer(Name=lb_name, Subnets=subnets)
    w = windows(dt.date(2026, 3, 6))
    seed_cost_explorer(env, ce_result(w.read_start, w.as_of))

    # 100 days on, the snapshot taken now is older than the 90-day limit.
    later = time.time() + 100 * 86400
    report = cost_report(env, isolated_app, CostQuery(as_of=dt.date(2026, 3, 6)), now=later)
    assert report.findings_error is None
    found = {(f.kind, f.resource): f for f in report.findings}
    assert found["unattached-volume", volume].monthly_saving == Decimal("10.00")
    assert found["old-snapshot", snapshot].monthly_saving == Decimal("5.00")
    assert found["unassociated-eip", address].monthly_saving == Decimal("3.650")
    assert found["idle-load-balancer", lb_name].monthly_saving == Decimal("16.4250")
    stopped = found["stopped-instance", instance]
    assert "t3.micro stopped" in stopped.detail
    assert report.savings >= Decimal("35.075")
