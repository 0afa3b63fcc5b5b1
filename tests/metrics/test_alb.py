"""`hyperscale metrics alb`: the load balancer found through ELBv2 in moto, its figures from
moto-seeded CloudWatch data; percentiles and metric math through botocore's Stubber."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from hyperscale.clients.aws import load_balancers, metric_data, target_groups
from hyperscale.config.loader import load_environment
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.exit_codes import ExitCode
from hyperscale.metrics.alb.core import (
    STACK_TAG,
    AlbQuery,
    alb_metrics,
    alb_queries,
    find_load_balancer,
    summarize,
)
from tests.conftest import invoke, moto_client

pytestmark = pytest.mark.aws


@dataclass(frozen=True)
class Seeded:
    app: AppContext
    env: Environment
    name: str
    arn: str
    dimension: str
    group_dimensions: list[str]


@pytest.fixture
def seeded(local_services: Environment, isolated_app: AppContext) -> Iterator[Seeded]:
    """An environment of its own name (so its stack tag is unique in the shared moto) with a
    load balancer tagged as the ingress controller tags it, two target groups, and a decoy
    load balancer of another stack. Both are deleted afterwards."""
    env_name = f"alb-{uuid.uuid4().hex[:8]}"
    source = isolated_app.environments_dir / "local.yaml"
    data = yaml.safe_load(source.read_text())
    data["name"] = env_name
    (isolated_app.environments_dir / f"{env_name}.yaml").write_text(yaml.safe_dump(data))
    env = load_environment(isolated_app, env_name)
    ec2, elbv2 = moto_client(env, "ec2"), moto_client(env, "elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"us-east-1{z}")[
            "Subnet"
        ]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    made = []
    for name, stack in (
        (f"k8s-{env_name}", f"hyperscale-{env_name}"),
        (f"k8s-other-{env_name}", "other"),
    ):
        lb = elbv2.create_load_balancer(
            Name=name, Subnets=subnets, Tags=[{"Key": STACK_TAG, "Value": stack}]
        )["LoadBalancers"][0]
        made.append(lb["LoadBalancerArn"])
    arn = made[0]
    groups = []
    for index in range(2):
        group = elbv2.create_target_group(
            Name=f"tg{index}-{env_name}", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]
        listener_port = 80 + index
        elbv2.create_listener(
            LoadBalancerArn=arn, Protocol="HTTP", Port=listener_port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
        )  # fmt: skip
        groups.append(group["TargetGroupArn"].split(":", 5)[-1])
    dimension = arn.split(":loadbalancer/", 1)[-1]
    yield Seeded(isolated_app, env, f"k8s-{env_name}", arn, dimension, groups)
    for lb_arn in made:
        elbv2.delete_load_balancer(LoadBalancerArn=lb_arn)


def _put(env: Environment, metric: str, values: list[float], dimensions: dict[str, str]) -> None:
    """One datapoint a minute, the last one two minutes ago."""
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    moto_client(env, "cloudwatch").put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
                "Timestamp": now - dt.timedelta(minutes=2 + len(values) - 1 - i),
                "Value": value,
            }
            for i, value in enumerate(values)
        ],
    )


def test_figures_from_moto_seeded_cloudwatch_data(seeded: Seeded) -> None:
    """Discovery by the stack tag, the target groups, and every plain statistic the command
    asks for, read back from moto: sums, host counts, and quiet metrics read as no traffic.
    moto cannot compute percentiles (its GetMetricData fails on them) or metric math, so
    those queries are left out here and covered by the Stubber tests below."""
    env = seeded.env
    on_lb = {"LoadBalancer": seeded.dimension}
    _put(env, "RequestCount", [100, 200, 300], on_lb)
    _put(env, "HTTPCode_Target_5XX_Count", [1, 5], on_lb)
    _put(env, "HTTPCode_ELB_5XX_Count", [2], on_lb)
    _put(env, "TargetConnectionErrorCount", [3], on_lb)
    for group, (healthy, unhealthy) in zip(seeded.group_dimensions, ((3, 0), (1, 2)), strict=True):
        on_group = {"TargetGroup": group, "LoadBalancer": seeded.dimension}
        _put(env, "HealthyHostCount", [healthy + 1, healthy], on_group)
        _put(env, "UnHealthyHostCount", [0, unhealthy], on_group)

    elbv2, cloudwatch = moto_client(env, "elbv2"), moto_client(env, "cloudwatch")
    query = AlbQuery(since_s=3600, period_s=60, max_5xx_rate=0.01)
    balancer = find_load_balancer(env, query, load_balancers(env.aws, elbv2))
    assert balancer.name == seeded.name
    groups = target_groups(env.aws, elbv2, balancer.arn)
    plain = [
        q
        for q in alb_queries(balancer, groups, 60)
        if "MetricStat" in q and not q["MetricStat"]["Stat"].startswith("p")
    ]
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    start = end - dt.timedelta(hours=1)
    report = summarize(
        env,
        balancer,
        groups,
        metric_data(env.aws, cloudwatch, plain, start, end),
        query,
        start,
        end,
    )
    assert report.requests == 600
    assert (report.target_5xx, report.elb_5xx) == (6, 2)
    assert report.rate_5xx == pytest.approx(8 / 600)
    assert report.target_connection_errors == 3
    assert report.rejected_connections == 0  # no datapoints: no traffic, not an error
    assert report.p95_ms is None
    assert [(g.healthy, g.unhealthy) for g in report.target_groups] == [(3, 0), (1, 2)]
    assert report.exit_code == ExitCode.CHECK_FAILED  # 1.3% of requests failed, limit 1%
    assert [c.name for c in report.checks if c.breached] == ["5xx rate"]


def test_an_unknown_load_balancer_is_one_line_and_exit_2(seeded: Seeded) -> None:
    outcome = invoke(seeded.app, "metrics", "alb", "--env", seeded.env.name, "--tag", "team=nobody")
    assert outcome.exit_code == ExitCode.USAGE
    assert outcome.stderr.startswith("error: no load balancer tagged team=nobody in us-east-1")
    assert seeded.name in outcome.stderr  # the ones that exist are named
    assert len(outcome.stderr.strip().splitlines()) == 1

    named = invoke(
        seeded.app, "metrics", "alb", "--env", seeded.env.name, "--name", "nope", "-o", "json"
    )
    assert named.exit_code == ExitCode.USAGE
    assert "no load balancer named nope" in json.loads(named.stdout)["errors"][0]["message"]


def test_no_aws_credentials_is_one_line_and_exit_2(
    isolated_app: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Staging has no local endpoint: without credentials boto3 stops before any request."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    outcome = invoke(isolated_app, "metrics", "alb", "--env", "staging")
    assert outcome.exit_code == ExitCode.USAGE
    assert outcome.stderr.startswith(
        "error: no AWS credentials for listing the load balancers (account 345678901234, eu-west-1)"
    )
    assert len(outcome.stderr.strip().splitlines()) == 1


def test_bad_windows_and_rates_are_usage_errors(isolated_app: AppContext) -> None:
    for args, message in {
        ("--period", "90"): "CloudWatch takes 1, 5, 10, 30 or a multiple of 60",
        ("--since", "30s"): "--since must cover at least one period",
        ("--since", "soon"): "is not a duration",
        ("--max-5xx-rate", "lots"): "write a share (0.01) or a percentage (1%)",
        ("--max-5xx-rate", "150%"): "must be a share between 0 and 1",
    }.items():
        outcome = invoke(isolated_app, "metrics", "alb", *args)
        assert outcome.exit_code == ExitCode.USAGE, args
        assert message in outcome.stderr, (args, outcome.stderr)


# -- percentiles and metric math: botocore's Stubber stands in for CloudWatch -------------------
# moto's GetMetricData answers 500 to a percentile statistic and does not evaluate metric math
# (IF, FILL, arithmetic), so the one call the command makes is answered by a Stubber that also
# checks the request is exactly what the command must ask. ELBv2 is still moto.

NOW = dt.datetime(2026, 5, 4, 12, 0, 30, tzinfo=dt.UTC)
END = dt.datetime(2026, 5, 4, 12, 0, 0, tzinfo=dt.UTC)


def _stubbed(seeded: Seeded, results: list[dict[str, Any]], query: AlbQuery) -> Any:
    import boto3
    from botocore.stub import Stubber

    env = seeded.env
    elbv2 = moto_client(env, "elbv2")
    balancer = find_load_balancer(env, query, load_balancers(env.aws, elbv2))
    groups = target_groups(env.aws, elbv2, balancer.arn)
    cloudwatch = boto3.client(
        "cloudwatch", region_name=env.aws.region, endpoint_url=str(env.aws.endpoint_url),
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    stubber = Stubber(cloudwatch)
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": results, "Messages": []},
        {
            "MetricDataQueries": alb_queries(balancer, groups, query.period_s),
            "StartTime": END - dt.timedelta(seconds=query.since_s),
            "EndTime": END,
            "ScanBy": "TimestampAscending",
        },
    )
    stubber.activate()
    clients = {"elbv2": elbv2, "cloudwatch": cloudwatch}
    report = alb_metrics(env, seeded.app, query, make_client=clients.__getitem__, now=NOW)
    stubber.assert_no_pending_responses()
    return report


def _series(query_id: str, values: list[float]) -> dict[str, Any]:
    stamps = [END - dt.timedelta(minutes=len(values) - i) for i in range(len(values))]
    return {"Id": query_id, "Label": query_id, "Timestamps": stamps, "Values": values,
            "StatusCode": "Complete"}  # fmt: skip


def test_p95_and_the_5xx_rate_from_one_get_metric_data_call(seeded: Seeded) -> None:
    results = [
        _series("requests", [1000, 1200, 800]),
        _series("p50", [0.040, 0.055, 0.045]),
        _series("p95", [0.210, 0.870, 0.300]),
        _series("p99", [0.400, 1.900, 0.500]),
        _series("target5xx", [5, 30, 1]),
        _series("elb5xx", [0, 6, 0]),
        _series("rate5xx", [0.005, 0.03, 0.00125]),
        _series("ratetarget5xx", [0.005, 0.025, 0.00125]),
        _series("rateelb5xx", [0.0, 0.005, 0.0]),
        _series("healthy0", [3, 3, 2]),
        _series("unhealthy0", [0, 0, 1]),
    ]
    query = AlbQuery(since_s=900, period_s=60, max_p95_ms=500, max_5xx_rate=0.01)
    report = _stubbed(seeded, results, query)
    assert report.p95_ms == pytest.approx(870)  # the worst minute
    assert report.p95_latest_ms == pytest.approx(300)
    assert report.p99_ms == pytest.approx(1900)
    assert report.requests == 3000
    assert report.rate_5xx == pytest.approx(42 / 3000)
    assert report.worst_period_rate_5xx == pytest.approx(0.03)
    assert report.rejected_connections == 0  # no datapoints: no traffic
    assert [(g.healthy, g.unhealthy) for g in report.target_groups] == [(2, 1), (None, None)]
    assert report.exit_code == ExitCode.CHECK_FAILED
    assert sorted(c.name for c in report.checks if c.breached) == ["5xx rate", "p95 response time"]

    relaxed = AlbQuery(since_s=900, period_s=60, max_p95_ms=1000, max_5xx_rate=0.02)
    assert _stubbed(seeded, results, relaxed).exit_code == ExitCode.OK


def test_a_window_without_datapoints_is_no_traffic_and_breaches_nothing(seeded: Seeded) -> None:
    query = AlbQuery(since_s=600, period_s=60, max_p95_ms=1, max_5xx_rate=0.0)
    report = _stubbed(seeded, [_series("requests", []), _series("p95", [])], query)
    assert (report.requests, report.p95_ms, report.rate_5xx) == (0, None, None)
    assert report.exit_code == ExitCode.OK
    assert {c.detail for c in report.checks} == {"no traffic"}
