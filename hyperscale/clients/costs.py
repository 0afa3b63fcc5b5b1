"""The adapter to AWS Cost Explorer and to the inventory the savings findings read (EC2 volumes,
snapshots, addresses, instances; ELBv2 load balancers). Plain rows out; the arithmetic is in
hyperscale.reports.cost."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hyperscale.clients.aws import aws_errors
from hyperscale.config.models import Aws

#: Record types left out unless asked for: they are not spending (Cost Explorer's RECORD_TYPE).
CREDIT_RECORD_TYPES = ("Credit", "Refund")


@dataclass(frozen=True)
class CostRow:
    """One day's cost of one group (a service, or a tag value)."""

    day: dt.date
    group: str
    amount: Decimal
    unit: str
    estimated: bool


def _ce_filter(exclude_credits: bool) -> dict[str, Any] | None:
    if not exclude_credits:
        return None
    return {"Not": {"Dimensions": {"Key": "RECORD_TYPE", "Values": list(CREDIT_RECORD_TYPES)}}}


def cost_and_usage(
    aws: Aws,
    ce: Any,
    start: dt.date,
    end: dt.date,
    group_by: dict[str, str],
    *,
    exclude_credits: bool = True,
    metric: str = "UnblendedCost",
) -> list[CostRow]:
    """Daily cost per group over [start, end): one GetCostAndUsage request (and its pages)."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Granularity": "DAILY",
        "Metrics": [metric],
        "GroupBy": [group_by],
    }
    flt = _ce_filter(exclude_credits)
    if flt is not None:
        request["Filter"] = flt
    rows: list[CostRow] = []
    token: str | None = None
    with aws_errors(aws, "Cost Explorer GetCostAndUsage"):
        while True:
            page = ce.get_cost_and_usage(**request, **({"NextPageToken": token} if token else {}))
            for period in page.get("ResultsByTime", []):
                day = dt.date.fromisoformat(period["TimePeriod"]["Start"])
                estimated = bool(period.get("Estimated", False))
                for group in period.get("Groups", []):
                    value = group["Metrics"][metric]
                    name = group["Keys"][0] if group.get("Keys") else "(none)"
                    rows.append(
                        CostRow(day, name, Decimal(value["Amount"]), value["Unit"], estimated)
                    )
            token = page.get("NextPageToken")
            if not token:
                return rows


def cost_forecast(
    aws: Aws, ce: Any, start: dt.date, end: dt.date, *, exclude_credits: bool = True
) -> Decimal:
    """Cost Explorer's forecast of the cost over [start, end) (GetCostForecast, the mean)."""
    request: dict[str, Any] = {
        "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
        "Metric": "UNBLENDED_COST",
        "Granularity": "MONTHLY",
    }
    flt = _ce_filter(exclude_credits)
    if flt is not None:
        request["Filter"] = flt
    with aws_errors(aws, "Cost Explorer GetCostForecast"):
        answer = ce.get_cost_forecast(**request)
    return Decimal(answer["Total"]["Amount"])


# -- the inventory behind the savings findings ------------------------------------------------


@dataclass(frozen=True)
class Volume:
    id: str
    size_gb: int
    volume_type: str
    state: str


@dataclass(frozen=True)
class Snapshot:
    id: str
    size_gb: int
    started: dt.datetime


@dataclass(frozen=True)
class Address:
    allocation_id: str
    public_ip: str
    associated: bool


@dataclass(frozen=True)
class Instance:
    id: str
    instance_type: str
    state: str
    volume_ids: list[str]


@dataclass(frozen=True)
class Balancer:
    name: str
    arn: str
    kind: str
    #: ``app/NAME/ID`` (or ``net/NAME/ID``): CloudWatch's LoadBalancer dimension.
    dimension: str


def volumes(aws: Aws, ec2: Any) -> list[Volume]:
    with aws_errors(aws, "EC2 DescribeVolumes"):
        pages = ec2.get_paginator("describe_volumes").paginate()
        return [
            Volume(v["VolumeId"], int(v["Size"]), v.get("VolumeType", "gp2"), v["State"])
            for page in pages
            for v in page["Volumes"]
        ]


def own_snapshots(aws: Aws, ec2: Any) -> list[Snapshot]:
    with aws_errors(aws, "EC2 DescribeSnapshots"):
        pages = ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"])
        return [
            Snapshot(s["SnapshotId"], int(s["VolumeSize"]), s["StartTime"])
            for page in pages
            for s in page["Snapshots"]
        ]


def addresses(aws: Aws, ec2: Any) -> list[Address]:
    with aws_errors(aws, "EC2 DescribeAddresses"):
        found = ec2.describe_addresses()["Addresses"]
    return [
        Address(
            a.get("AllocationId", a.get("PublicIp", "?")),
            a.get("PublicIp", "?"),
            bool(a.get("AssociationId") or a.get("InstanceId")),
        )
        for a in found
    ]


def instances(aws: Aws, ec2: Any) -> list[Instance]:
    with aws_errors(aws, "EC2 DescribeInstances"):
        pages = ec2.get_paginator("describe_instances").paginate()
        return [
            Instance(
                i["InstanceId"],
                i["InstanceType"],
                i["State"]["Name"],
                [
                    m["Ebs"]["VolumeId"]
                    for m in i.get("BlockDeviceMappings", [])
                    if "Ebs" in m and "VolumeId" in m["Ebs"]
                ],
            )
            for page in pages
            for r in page["Reservations"]
            for i in r["Instances"]
        ]


def balancers(aws: Aws, elbv2: Any) -> list[Balancer]:
    with aws_errors(aws, "ELBv2 DescribeLoadBalancers"):
        pages = elbv2.get_paginator("describe_load_balancers").paginate()
        found = [lb for page in pages for lb in page["LoadBalancers"]]
    return [
        Balancer(
            lb["LoadBalancerName"],
            lb["LoadBalancerArn"],
            lb.get("Type", "application"),
            lb["LoadBalancerArn"].split(":loadbalancer/", 1)[-1],
        )
        for lb in found
    ]


def request_sums(
    aws: Aws, cloudwatch: Any, balancers_: list[Balancer], start: dt.datetime, end: dt.datetime
) -> dict[str, float]:
    """Each load balancer's requests (ALB) or new flows (NLB) over [start, end), by ARN; a
    balancer without datapoints has 0."""
    if not balancers_:
        return {}
    queries = [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/ApplicationELB"
                    if b.kind == "application"
                    else "AWS/NetworkELB",
                    "MetricName": "RequestCount" if b.kind == "application" else "NewFlowCount",
                    "Dimensions": [{"Name": "LoadBalancer", "Value": b.dimension}],
                },
                "Period": 86400,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
        for i, b in enumerate(balancers_)
    ]
    sums = {f"q{i}": 0.0 for i in range(len(balancers_))}
    with aws_errors(aws, "CloudWatch GetMetricData"):
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                sums[result["Id"]] += sum(result.get("Values", []))
    return {b.arn: sums[f"q{i}"] for i, b in enumerate(balancers_)}
