"""The adapter to AWS (boto3): one factory for every service client, honouring the
environment's endpoint (moto on the local target), so CloudWatch, Cost Explorer, ECR, SES and
Secrets Manager calls all reach the same place."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from hyperscale.config.models import Aws
from hyperscale.errors import ExternalSystemError, UsageError

#: moto accepts any credentials; these keep boto3 from looking for real ones when the
#: environment's endpoint is the local moto server.
LOCAL_AWS_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def aws_client(
    aws: Aws,
    service: str,
    *,
    credentials: Mapping[str, str] | None = None,
    timeout: float | None = None,
    attempts: int | None = None,
) -> Any:
    """A boto3 client for ``service`` in the environment's region and endpoint.

    ``credentials`` (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) are for the local
    endpoint only, and default to moto's throwaway ones there; otherwise boto3's own chain
    (IRSA, profiles, instance roles) applies. ``timeout`` bounds connect and read;
    ``attempts`` caps retries (a probe wants one).
    """
    import boto3
    import botocore.session
    from botocore.config import Config

    if credentials is None and aws.endpoint_url is not None:
        credentials = LOCAL_AWS_CREDENTIALS

    options: dict[str, Any] = {}
    if timeout is not None:
        options.update(connect_timeout=timeout, read_timeout=timeout)
    if attempts is not None:
        options["retries"] = {"max_attempts": attempts}
    core = botocore.session.Session()
    # One loader for every session of the process: a client's service model is parsed once,
    # not at each client (hundreds of milliseconds of CPU each, serialised by the GIL when
    # the digest's collectors make their clients at once).
    core.register_component("data_loader", _shared_loader())
    session = boto3.session.Session(
        botocore_session=core,
        region_name=aws.region,
        aws_access_key_id=credentials.get("AWS_ACCESS_KEY_ID") if credentials else None,
        aws_secret_access_key=credentials.get("AWS_SECRET_ACCESS_KEY") if credentials else None,
    )
    make: Any = session.client  # typed per literal service name; ours is a parameter
    return make(
        service,
        endpoint_url=str(aws.endpoint_url) if aws.endpoint_url else None,
        config=Config(**options) if options else None,
    )


@functools.cache
def _shared_loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


def caller_account(aws: Aws, credentials: Mapping[str, str] | None = None) -> str:
    """The account the credentials act as (STS GetCallerIdentity): one quick request."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_client(aws, "sts", credentials=credentials, timeout=3, attempts=1)
    try:
        return str(client.get_caller_identity()["Account"])
    except (BotoCoreError, ClientError) as exc:
        raise ExternalSystemError(str(exc)) from None


def secret_string(aws: Aws, secret_id: str) -> str:
    """A Secrets Manager secret's string value."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = aws_client(aws, "secretsmanager")
    try:
        return str(client.get_secret_value(SecretId=secret_id)["SecretString"])
    except (BotoCoreError, ClientError) as exc:
        raise ExternalSystemError(f"cannot read AWS secret {secret_id}: {exc}") from None


# -- load balancers, databases and their CloudWatch figures (`hyperscale metrics`) ------------


@dataclass(frozen=True)
class LoadBalancer:
    name: str
    arn: str
    #: ``app/NAME/ID``: the value of CloudWatch's LoadBalancer dimension.
    dimension: str
    dns_name: str
    tags: dict[str, str]


@dataclass(frozen=True)
class TargetGroup:
    name: str
    #: ``targetgroup/NAME/ID``: the value of CloudWatch's TargetGroup dimension.
    dimension: str


@dataclass(frozen=True)
class DbInstance:
    identifier: str
    instance_class: str
    allocated_storage_gb: int
    #: The instance it replicates from (a read replica), else None.
    source: str | None
    address: str


@dataclass(frozen=True)
class MetricSeries:
    """One query's answer, oldest first; periods without a datapoint are simply absent."""

    id: str
    label: str
    timestamps: list[float]
    values: list[float]


@contextlib.contextmanager
def aws_errors(aws: Aws, what: str) -> Iterator[None]:
    """botocore's errors as ours: missing credentials are the user's to fix (exit 2); a refused
    or failed call is the outside system's (exit 3)."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        PartialCredentialsError,
    )

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError):
        raise UsageError(
            f"no AWS credentials for {what} (account {aws.account_id}, {aws.region})",
            hint="log in first: `aws sso login`, AWS_PROFILE, or the instance's role",
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ExternalSystemError(
            f"AWS refused {what}: {error.get('Code', '?')}: {error.get('Message', exc)}"
        ) from None
    except BotoCoreError as exc:
        raise ExternalSystemError(f"AWS: {what} failed: {exc}") from None


def load_balancers(aws: Aws, elbv2: Any) -> list[LoadBalancer]:
    """Every application load balancer in the region, with its tags."""
    with aws_errors(aws, "listing the load balancers"):
        found = [
            lb
            for page in elbv2.get_paginator("describe_load_balancers").paginate()
            for lb in page["LoadBalancers"]
            if lb.get("Type", "application") == "application"
        ]
        tags: dict[str, dict[str, str]] = {}
        for start in range(0, len(found), 20):  # DescribeTags takes at most 20 ARNs
            arns = [lb["LoadBalancerArn"] for lb in found[start : start + 20]]
            for described in elbv2.describe_tags(ResourceArns=arns)["TagDescriptions"]:
                tags[described["ResourceArn"]] = {t["Key"]: t["Value"] for t in described["Tags"]}
    return [
        LoadBalancer(
            name=lb["LoadBalancerName"],
            arn=lb["LoadBalancerArn"],
            dimension=lb["LoadBalancerArn"].split(":loadbalancer/", 1)[-1],
            dns_name=lb.get("DNSName", ""),
            tags=tags.get(lb["LoadBalancerArn"], {}),
        )
        for lb in found
    ]


def target_groups(aws: Aws, elbv2: Any, load_balancer_arn: str) -> list[TargetGroup]:
    with aws_errors(aws, "listing the load balancer's target groups"):
        pages = elbv2.get_paginator("describe_target_groups").paginate(
            LoadBalancerArn=load_balancer_arn
        )
        groups = [g for page in pages for g in page["TargetGroups"]]
    return [
        TargetGroup(g["TargetGroupName"], g["TargetGroupArn"].split(":", 5)[-1]) for g in groups
    ]


def db_instances(aws: Aws, rds: Any) -> list[DbInstance]:
    with aws_errors(aws, "listing the RDS instances"):
        pages = rds.get_paginator("describe_db_instances").paginate()
        found = [db for page in pages for db in page["DBInstances"]]
    return [
        DbInstance(
            identifier=db["DBInstanceIdentifier"],
            instance_class=db.get("DBInstanceClass", ""),
            allocated_storage_gb=int(db.get("AllocatedStorage", 0)),
            source=db.get("ReadReplicaSourceDBInstanceIdentifier"),
            address=db.get("Endpoint", {}).get("Address", ""),
        )
        for db in found
    ]


def metric_data(
    aws: Aws, cloudwatch: Any, queries: list[dict[str, Any]], start: dt.datetime, end: dt.datetime
) -> dict[str, MetricSeries]:
    """One GetMetricData request (its pages followed); each query's series by its id."""
    series: dict[str, MetricSeries] = {}
    token: str | None = None
    with aws_errors(aws, "reading CloudWatch metrics"):
        while True:
            request: dict[str, Any] = {
                "MetricDataQueries": queries,
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampAscending",
            }
            if token:
                request["NextToken"] = token
            answer = cloudwatch.get_metric_data(**request)
            for result in answer["MetricDataResults"]:
                known = series.setdefault(
                    result["Id"], MetricSeries(result["Id"], result.get("Label", ""), [], [])
                )
                for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                    if value is not None:  # a stat the endpoint cannot compute
                        known.timestamps.append(stamp.timestamp())
                        known.values.append(float(value))
            token = answer.get("NextToken")
            if not token:
                break
    for found in series.values():
        ordered = sorted(zip(found.timestamps, found.values, strict=True))
        found.timestamps[:] = [t for t, _ in ordered]
        found.values[:] = [v for _, v in ordered]
    return series
