"""`hyperscale chaos db-failover`: on the local target a MariaDB restart under an order stream
(hyperscale.chaos.outage); on an environment with an AWS account a reboot of its RDS instance
with failover to the Multi-AZ standby (RebootDBInstance, ForceFailover), through boto3.

On AWS, judged: the instance available and Multi-AZ before (a single-AZ instance is refused: a
reboot there is an outage, not a failover), available again afterwards with the primary in
another zone (the standby's), within ``--recovery-timeout``. Measured: the statuses seen, the
seconds until available in the new zone, and the instance's events since the reboot.
"""

from __future__ import annotations

import datetime as dt
import time

from hyperscale.chaos.core import require_chaos_enabled
from hyperscale.chaos.outage import OutageSettings, db_failover_local
from hyperscale.chaos.results import OutagePlan, RdsFailoverPlan
from hyperscale.clients.rds_instances import (
    RdsInstance,
    describe_instance,
    instance_events,
    reboot_with_failover,
)
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.dr.rds import rds_instance
from hyperscale.drills.engine import DrillRun, run_drill
from hyperscale.drills.results import DrillReport
from hyperscale.errors import UsageError
from hyperscale.progress import Progress, quiet
from hyperscale.safety import confirm_protected

#: Seconds between two DescribeDBInstances while the failover runs.
POLL_S = 2.0


def db_failover(
    env: Environment, app: AppContext, s: OutageSettings, progress: Progress = quiet
) -> OutagePlan | RdsFailoverPlan | DrillReport:
    if env.infra is None:
        return db_failover_local(env, app, s, progress)
    require_chaos_enabled(env)
    name = rds_instance(env)
    instance = describe_instance(env.aws, name)
    if instance is None:
        raise UsageError(f"{env.name} has no RDS instance {name} in {env.aws.region}")
    action = f"reboot RDS instance {name} with failover ({instance.zone} -> standby)"
    if s.dry_run:
        return RdsFailoverPlan(
            env.name,
            name,
            instance.status,
            instance.multi_az,
            instance.zone,
            instance.standby_zone,
            action,
        )
    if not instance.multi_az:
        raise UsageError(
            f"RDS instance {name} is not Multi-AZ: a reboot there is an outage with no standby"
            " to fail over to",
            hint="turn on Multi-AZ (the rds module's multi_az) first",
        )
    if instance.status != "available":
        raise UsageError(f"RDS instance {name} is {instance.status}, not available: not now")
    confirm_protected(app, env, action, yes=s.yes)
    return run_drill(
        app, "db-failover", env.name, lambda run: _drill(run, env, instance, s), progress
    )


def _drill(run: DrillRun, env: Environment, before: RdsInstance, s: OutageSettings) -> None:
    name = before.id
    run.check(
        "steady state before: available, Multi-AZ",
        before.status == "available" and before.multi_az,
        f"{before.status}, primary in {before.zone}, standby in {before.standby_zone or '?'}",
    )
    since = dt.datetime.now(dt.UTC)
    with run.step(f"reboot {name} with failover (RebootDBInstance, ForceFailover)"):
        answer = reboot_with_failover(env.aws, name)
        rebooted_at = time.monotonic()
        run.note(f"RebootDBInstance accepted; the instance is {answer.status}")
    statuses = [answer.status]
    last = [answer]

    def moved() -> bool:
        now = describe_instance(env.aws, name)
        if now is None:
            return False
        last[0] = now
        if now.status != statuses[-1]:
            statuses.append(now.status)
        return now.status == "available" and now.zone != before.zone

    with run.step(f"until available in another zone, within {s.recovery_timeout_s:g}s"):
        waited = run.wait_until(moved, s.recovery_timeout_s, interval=POLL_S)
    after = last[0]
    run.measure("statuses_seen", " -> ".join(statuses))
    run.measure("zone_before", before.zone)
    run.measure("zone_after", after.zone)
    run.measure(
        "seconds_to_available_in_new_zone",
        None if waited is None else round(time.monotonic() - rebooted_at, 2),
    )
    run.check("available again", after.status == "available", after.status)
    run.check(
        "the primary moved to another zone (the standby took over)",
        after.zone != before.zone,
        f"{before.zone} -> {after.zone}",
    )
    events = instance_events(env.aws, name, since)
    run.measure("events_since_reboot", len(events))
    run.note("RDS events since the reboot", events=events)
