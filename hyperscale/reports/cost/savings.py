"""Savings findings: resources that cost money for nothing, each with an estimated monthly
saving. The prices are on-demand list prices (us-east-1/eu-west-1, USD); they are estimates,
and the report says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from hyperscale.clients.costs import (
    Instance,
    Snapshot,
    Volume,
    addresses,
    balancers,
    instances,
    own_snapshots,
    request_sums,
    volumes,
)
from hyperscale.config.models import Environment
from hyperscale.reports.cost.results import Finding

HOURS_PER_MONTH = Decimal(730)
#: EBS storage, USD per GB-month, by volume type.
EBS_GB_MONTH = {
    "gp2": Decimal("0.10"),
    "gp3": Decimal("0.08"),
    "io1": Decimal("0.125"),
    "io2": Decimal("0.125"),
    "st1": Decimal("0.045"),
    "sc1": Decimal("0.015"),
    "standard": Decimal("0.05"),
}
SNAPSHOT_GB_MONTH = Decimal("0.05")
#: A public IPv4 address is charged by the hour whether or not it is associated.
EIP_HOUR = Decimal("0.005")
#: The fixed hourly charge of an application or network load balancer (without LCUs).
LB_HOUR = Decimal("0.0225")
#: A load balancer with fewer requests than this over the last week is idle.
IDLE_REQUESTS_PER_WEEK = 100


def volume_month(size_gb: int, volume_type: str) -> Decimal:
    return Decimal(size_gb) * EBS_GB_MONTH.get(volume_type, EBS_GB_MONTH["gp2"])


def savings_findings(
    env: Environment, make: Callable[[str], Any], now: float, snapshot_days: int
) -> list[Finding]:
    """Every kind of finding; the inventory calls go out at once (each is a wait on AWS)."""
    ec2 = make("ec2")
    with ThreadPoolExecutor(max_workers=5) as pool:
        all_volumes = pool.submit(volumes, env.aws, ec2)
        snapshots = pool.submit(own_snapshots, env.aws, ec2)
        eips = pool.submit(addresses, env.aws, ec2)
        machines = pool.submit(instances, env.aws, ec2)
        idle = pool.submit(_idle_balancers, env, make, now)
        return (
            _volume_findings(all_volumes.result(), machines.result())
            + _snapshot_findings(snapshots.result(), now, snapshot_days)
            + [
                Finding(
                    "unassociated-eip",
                    a.allocation_id,
                    f"{a.public_ip} is associated with nothing",
                    EIP_HOUR * HOURS_PER_MONTH,
                )
                for a in eips.result()
                if not a.associated
            ]
            + idle.result()
        )


def _volume_findings(all_volumes: list[Volume], machines: list[Instance]) -> list[Finding]:
    """Unattached volumes, and stopped instances (whose volumes are still billed)."""
    by_id = {v.id: v for v in all_volumes}
    found = [
        Finding(
            "unattached-volume",
            v.id,
            f"{v.size_gb} GB {v.volume_type}, attached to nothing",
            volume_month(v.size_gb, v.volume_type),
        )
        for v in all_volumes
        if v.state == "available"
    ]
    for i in machines:
        if i.state != "stopped":
            continue
        attached = [by_id[v] for v in i.volume_ids if v in by_id]
        storage = sum((volume_month(v.size_gb, v.volume_type) for v in attached), Decimal(0))
        size = sum(v.size_gb for v in attached)
        found.append(
            Finding(
                "stopped-instance",
                i.id,
                f"{i.instance_type} stopped; its {size} GB of volumes are still billed",
                storage,
            )
        )
    return found


def _snapshot_findings(snapshots: list[Snapshot], now: float, days: int) -> list[Finding]:
    cutoff = dt.datetime.fromtimestamp(now, dt.UTC) - dt.timedelta(days=days)
    return [
        Finding(
            "old-snapshot",
            s.id,
            f"{s.size_gb} GB, taken {s.started.date().isoformat()} (over {days} days)",
            Decimal(s.size_gb) * SNAPSHOT_GB_MONTH,
        )
        for s in snapshots
        if s.started < cutoff
    ]


def _idle_balancers(env: Environment, make: Callable[[str], Any], now: float) -> list[Finding]:
    lbs = balancers(env.aws, make("elbv2"))
    end = dt.datetime.fromtimestamp(now, dt.UTC)
    sums = request_sums(env.aws, make("cloudwatch"), lbs, end - dt.timedelta(days=7), end)
    return [
        Finding(
            "idle-load-balancer",
            lb.name,
            f"{sums.get(lb.arn, 0):.0f} requests in 7 days",
            LB_HOUR * HOURS_PER_MONTH,
        )
        for lb in lbs
        if sums.get(lb.arn, 0) < IDLE_REQUESTS_PER_WEEK
    ]
