"""`hyperscale metrics db`: read each MySQL server's status twice, an interval apart, and turn the
counters into rates; read replication from the replica; on AWS, the RDS instances' CloudWatch
figures too; hold everything to the thresholds. Never prints."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from hyperscale.clients.aws import aws_client, db_instances, metric_data
from hyperscale.clients.mysql import ServerSample, monitor_connection
from hyperscale.config.models import Environment
from hyperscale.context import AppContext
from hyperscale.errors import UsageError
from hyperscale.metrics.checks import ThresholdCheck
from hyperscale.metrics.db.results import DbReport, RdsFigures, ReplicationFigures, ServerFigures
from hyperscale.progress import Progress, quiet


@dataclass(frozen=True)
class DbLimits:
    """Thresholds; None leaves a figure unjudged."""

    max_connections_pct: float = 80.0
    max_lag_seconds: float = 30.0
    min_hit_ratio_pct: float | None = None
    max_threads_running: int | None = None
    max_slow_queries: int | None = None
    min_free_storage_pct: float | None = 10.0


def db_metrics(
    env: Environment,
    app: AppContext,
    interval: float,
    limits: DbLimits,
    *,
    rds: bool | None = None,
    progress: Progress = quiet,
    make_client: Callable[[str], Any] | None = None,
) -> DbReport:
    """The writer and (when it is another server) the reader, sampled ``interval`` apart; the
    RDS figures when ``rds`` (default: for environments with an AWS account)."""
    roles = ["writer"] if env.mysql.reader == env.mysql.writer else ["writer", "reader"]
    with ExitStack() as stack:
        progress(f"connecting to {', '.join(roles)}")
        connections = {r: stack.enter_context(monitor_connection(env, app, r)) for r in roles}
        first = {r: c.sample() for r, c in connections.items()}
        progress(f"sampling again in {interval:g}s")
        time.sleep(interval)
        second = {r: c.sample() for r, c in connections.items()}
    writer_gtid = second["writer"].gtid_binlog_pos
    servers = [
        server_figures(role, _endpoint(env, role), first[role], second[role], writer_gtid)
        for role in roles
    ]
    if len(roles) == 1:
        servers[0] = _renamed(servers[0], "writer+reader")
    with_rds = env.infra is not None if rds is None else rds
    rds_figures = None
    if with_rds:
        progress("reading the RDS figures from CloudWatch")
        rds_figures = rds_metrics(env, make_client or _client_factory(env))
    report = DbReport(env.name, interval, servers, rds_figures)
    checks = [c for _, check in DB_CHECKS for c in check(report, limits)]
    return DbReport(env.name, interval, servers, rds_figures, checks)


def _endpoint(env: Environment, role: str) -> str:
    return str(env.mysql.writer if role == "writer" else env.mysql.reader)


def _client_factory(env: Environment) -> Callable[[str], Any]:
    return lambda service: aws_client(env.aws, service, timeout=15, attempts=3)


def _renamed(server: ServerFigures, role: str) -> ServerFigures:
    from dataclasses import replace

    return replace(server, role=role)


def server_figures(
    role: str, endpoint: str, first: ServerSample, second: ServerSample, writer_gtid: str
) -> ServerFigures:
    elapsed = max(second.taken_at - first.taken_at, 1e-9)
    now, before = second.status, first.status

    def delta(name: str) -> int:
        return max(0, now.get(name, 0) - before.get(name, 0))

    reads, requests = delta("innodb_buffer_pool_reads"), delta("innodb_buffer_pool_read_requests")
    errors = delta("aborted_connects") + sum(
        delta(name) for name in now if name.startswith("connection_errors_")
    )
    replication = None
    if second.replication is not None:
        r = second.replication
        replication = ReplicationFigures(
            source=r.source,
            io_running=r.io_running,
            sql_running=r.sql_running,
            seconds_behind=r.seconds_behind,
            transactions_behind=transactions_behind(writer_gtid, second.gtid_slave_pos)
            if role == "reader"
            else None,
            io_state=r.io_state,
            sql_state=r.sql_state,
            last_error=r.last_sql_error or r.last_io_error,
        )
    return ServerFigures(
        role=role,
        endpoint=endpoint,
        version=second.variables.get("version", "unknown"),
        read_only=second.variables.get("read_only", "OFF").upper() in ("ON", "1"),
        connections=now.get("threads_connected", 0),
        max_connections=int(second.variables.get("max_connections", "0") or 0),
        connections_high_water=now.get("max_used_connections", 0),
        threads_running=now.get("threads_running", 0),
        connection_errors=errors,
        queries_per_second=delta("queries") / elapsed,
        slow_queries=delta("slow_queries"),
        slow_queries_total=now.get("slow_queries", 0),
        buffer_pool_hit_pct=100.0 * (1 - reads / requests) if requests else None,
        row_lock_waits=delta("innodb_row_lock_waits"),
        row_lock_current_waits=now.get("innodb_row_lock_current_waits", 0),
        row_lock_time_ms=delta("innodb_row_lock_time"),
        replication=replication,
        replication_error=second.replication_error,
    )


def transactions_behind(primary_written: str, replica_applied: str) -> int | None:
    """How many transactions the replica lacks, from MariaDB GTID positions
    (``domain-server-sequence`` per domain, comma separated). None if unreadable."""
    try:
        written, applied = _gtid_positions(primary_written), _gtid_positions(replica_applied)
    except ValueError:
        return None
    if not written:
        return None
    return sum(max(0, seq - applied.get(domain, 0)) for domain, seq in written.items())


def _gtid_positions(text: str) -> dict[int, int]:
    positions: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        domain, _server, sequence = part.split("-")
        positions[int(domain)] = int(sequence)
    return positions


# -- RDS ---------------------------------------------------------------------------------------

_RDS_WINDOW = dt.timedelta(minutes=10)
#: (query id prefix, CloudWatch metric, statistic) for every instance.
_RDS_METRICS = [
    ("conn", "DatabaseConnections", "Average"),
    ("lag", "ReplicaLag", "Maximum"),
    ("mem", "FreeableMemory", "Minimum"),
    ("disk", "FreeStorageSpace", "Minimum"),
    ("cpu", "CPUUtilization", "Average"),
]


def rds_metrics(env: Environment, make_client: Callable[[str], Any]) -> list[RdsFigures]:
    """The environment's RDS instances (``hyperscale-ENV`` and its ``-replica-N``, as the
    Terraform module names them), each with its latest CloudWatch figures."""
    primary = f"hyperscale-{env.name}"
    instances = [
        db
        for db in db_instances(env.aws, make_client("rds"))
        if db.identifier == primary or db.identifier.startswith(f"{primary}-replica-")
    ]
    if not instances:
        raise UsageError(
            f"no RDS instance {primary} in {env.aws.region}",
            hint="leave out --rds, or check the account and region the credentials are for",
        )
    queries = [
        {
            "Id": f"{prefix}{index}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/RDS",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": db.identifier}],
                },
                "Period": 60,
                "Stat": stat,
            },
        }
        for index, db in enumerate(instances)
        for prefix, metric, stat in _RDS_METRICS
        if prefix != "lag" or db.source is not None
    ]
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    series = metric_data(env.aws, make_client("cloudwatch"), queries, end - _RDS_WINDOW, end)

    def latest(prefix: str, index: int) -> float | None:
        found = series.get(f"{prefix}{index}")
        return found.values[-1] if found and found.values else None

    return [
        RdsFigures(
            instance=db.identifier,
            role="replica" if db.source else "primary",
            instance_class=db.instance_class,
            connections=latest("conn", i),
            replica_lag_s=latest("lag", i),
            freeable_memory_bytes=latest("mem", i),
            free_storage_bytes=latest("disk", i),
            allocated_storage_gb=db.allocated_storage_gb,
            cpu_pct=latest("cpu", i),
        )
        for i, db in enumerate(instances)
    ]


# -- thresholds: one registry, each a callable over the report ----------------------------------

DbCheck = Callable[[DbReport, DbLimits], list[ThresholdCheck]]


def connections_used(report: DbReport, limits: DbLimits) -> list[ThresholdCheck]:
    return [
        ThresholdCheck(
            "connections",
            s.role,
            round(s.connections_pct, 2),
            f"<= {limits.max_connections_pct:g}% of {s.max_connections}",
            s.connections_pct > limits.max_connections_pct,
            f"{s.connections} open, high-water {s.connections_high_water}",
        )
        for s in report.servers
    ]


def replication_running(report: DbReport, limits: DbLimits) -> list[ThresholdCheck]:
    checks = []
    for s in report.servers:
        r = s.replication
        if r is None:
            continue
        checks.append(
            ThresholdCheck(
                "replication threads",
                s.role,
                f"I/O {r.io_running}, SQL {r.sql_running}",
                "both running",
                not r.running,
                r.last_error or r.sql_state,
            )
        )
        behind = r.seconds_behind
        unknown_but_behind = behind is None and bool(r.transactions_behind)
        detail = (
            f"{r.transactions_behind} transactions behind; seconds unknown while the SQL thread"
            " is stopped"
            if unknown_but_behind
            else f"{r.transactions_behind or 0} transactions behind"
        )
        checks.append(
            ThresholdCheck(
                "replication lag",
                s.role,
                None if behind is None else float(behind),
                f"<= {limits.max_lag_seconds:g} s",
                unknown_but_behind or (behind is not None and behind > limits.max_lag_seconds),
                detail,
            )
        )
    return checks


def server_limits(report: DbReport, limits: DbLimits) -> list[ThresholdCheck]:
    checks = []
    for s in report.servers:
        if limits.min_hit_ratio_pct is not None and s.buffer_pool_hit_pct is not None:
            checks.append(
                ThresholdCheck(
                    "buffer pool hit ratio",
                    s.role,
                    round(s.buffer_pool_hit_pct, 3),
                    f">= {limits.min_hit_ratio_pct:g}%",
                    s.buffer_pool_hit_pct < limits.min_hit_ratio_pct,
                )
            )
        if limits.max_threads_running is not None:
            checks.append(
                ThresholdCheck(
                    "threads running",
                    s.role,
                    float(s.threads_running),
                    f"<= {limits.max_threads_running}",
                    s.threads_running > limits.max_threads_running,
                )
            )
        if limits.max_slow_queries is not None:
            checks.append(
                ThresholdCheck(
                    "slow queries",
                    s.role,
                    float(s.slow_queries),
                    f"<= {limits.max_slow_queries} in {report.interval_s:g}s",
                    s.slow_queries > limits.max_slow_queries,
                )
            )
    return checks


def rds_limits(report: DbReport, limits: DbLimits) -> list[ThresholdCheck]:
    checks = []
    for r in report.rds or []:
        if r.replica_lag_s is not None:
            checks.append(
                ThresholdCheck(
                    "RDS replica lag",
                    r.instance,
                    r.replica_lag_s,
                    f"<= {limits.max_lag_seconds:g} s",
                    r.replica_lag_s > limits.max_lag_seconds,
                )
            )
        pct = r.free_storage_pct
        if limits.min_free_storage_pct is not None and pct is not None:
            checks.append(
                ThresholdCheck(
                    "RDS free storage",
                    r.instance,
                    round(pct, 2),
                    f">= {limits.min_free_storage_pct:g}%",
                    pct < limits.min_free_storage_pct,
                )
            )
    return checks


DB_CHECKS: list[tuple[str, DbCheck]] = [
    ("connections", connections_used),
    ("replication", replication_running),
    ("server", server_limits),
    ("rds", rds_limits),
]
