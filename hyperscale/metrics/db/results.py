"""Typed results of `hyperscale metrics db`: each server's figures over the interval, the RDS
CloudWatch figures, and the threshold checks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode
from hyperscale.metrics.checks import ThresholdCheck, render_checks

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True)
class ReplicationFigures:
    source: str
    io_running: str
    sql_running: str
    #: The server's Seconds_Behind_Master: None while the SQL thread is stopped.
    seconds_behind: int | None
    #: Transactions the primary has written that the replica has not applied (from GTIDs);
    #: known even when the SQL thread is stopped. None when the positions cannot be compared.
    transactions_behind: int | None
    io_state: str
    sql_state: str
    last_error: str

    @property
    def running(self) -> bool:
        return self.io_running == "Yes" and self.sql_running == "Yes"


@dataclass(frozen=True)
class ServerFigures:
    role: str
    endpoint: str
    version: str
    read_only: bool
    connections: int
    max_connections: int
    #: The most connections at once since the server started (Max_used_connections).
    connections_high_water: int
    threads_running: int
    #: Over the interval: failed connection attempts (Aborted_connects + Connection_errors_*).
    connection_errors: int
    queries_per_second: float
    slow_queries: int
    slow_queries_total: int
    #: Reads served from the buffer pool over the interval, in percent; None without reads.
    buffer_pool_hit_pct: float | None
    row_lock_waits: int
    row_lock_current_waits: int
    row_lock_time_ms: int
    replication: ReplicationFigures | None = None
    replication_error: str | None = None

    @property
    def connections_pct(self) -> float:
        return 100.0 * self.connections / self.max_connections if self.max_connections else 0.0

    def to_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["connections_pct"] = round(self.connections_pct, 2)
        data["queries_per_second"] = round(self.queries_per_second, 2)
        if self.buffer_pool_hit_pct is not None:
            data["buffer_pool_hit_pct"] = round(self.buffer_pool_hit_pct, 3)
        return data


@dataclass(frozen=True)
class RdsFigures:
    """The latest CloudWatch figures of one RDS instance (None: no datapoint in the window)."""

    instance: str
    role: str
    instance_class: str
    connections: float | None
    replica_lag_s: float | None
    freeable_memory_bytes: float | None
    free_storage_bytes: float | None
    allocated_storage_gb: int
    cpu_pct: float | None

    @property
    def free_storage_pct(self) -> float | None:
        if self.free_storage_bytes is None or not self.allocated_storage_gb:
            return None
        return 100.0 * self.free_storage_bytes / (self.allocated_storage_gb * 1024**3)

    def to_data(self) -> dict[str, Any]:
        pct = self.free_storage_pct
        return {**asdict(self), "free_storage_pct": None if pct is None else round(pct, 2)}


@dataclass(frozen=True)
class DbReport:
    environment: str
    interval_s: float
    servers: list[ServerFigures]
    rds: list[RdsFigures] | None
    checks: list[ThresholdCheck] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.CHECK_FAILED if any(c.breached for c in self.checks) else ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "interval_s": self.interval_s,
            "servers": {s.role: s.to_data() for s in self.servers},
            "rds": None if self.rds is None else [r.to_data() for r in self.rds],
            "checks": [c.to_data() for c in self.checks],
            "breached": [c.name for c in self.checks if c.breached],
        }

    def render(self, console: Console) -> None:
        from rich.table import Table

        table = Table(
            title=f"mysql: {self.environment}, over {self.interval_s:g}s", title_justify="left"
        )
        table.add_column("figure")
        for s in self.servers:
            table.add_column(f"{s.role} {s.endpoint}", justify="right")
        for label, value_of in _SERVER_ROWS:
            table.add_row(label, *(value_of(s) for s in self.servers))
        console.print(table)
        if self.rds:
            rds = Table(title="RDS (CloudWatch, latest)", title_justify="left")
            for column in ("instance", "role", "connections", "replica lag", "free memory",
                           "free storage", "cpu"):  # fmt: skip
                rds.add_column(
                    column, justify="left" if column in ("instance", "role") else "right"
                )
            for r in self.rds:
                pct = r.free_storage_pct
                rds.add_row(
                    r.instance,
                    r.role,
                    _num(r.connections),
                    "-" if r.replica_lag_s is None else f"{r.replica_lag_s:.0f} s",
                    _bytes(r.freeable_memory_bytes),
                    _bytes(r.free_storage_bytes) + ("" if pct is None else f" ({pct:.0f}%)"),
                    "-" if r.cpu_pct is None else f"{r.cpu_pct:.0f}%",
                )
            console.print(rds)
        render_checks(console, self.checks)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1024**3:.1f} GiB" if value >= 1024**3 else f"{value / 1024**2:.0f} MiB"


def _replication(s: ServerFigures) -> str:
    r = s.replication
    if r is None:
        return s.replication_error or "not a replica"
    return f"I/O {r.io_running}, SQL {r.sql_running}"


def _behind(s: ServerFigures) -> str:
    r = s.replication
    if r is None:
        return "-"
    seconds = "unknown" if r.seconds_behind is None else f"{r.seconds_behind} s"
    if r.transactions_behind is None:
        return seconds
    return f"{seconds}, {r.transactions_behind} transactions"


_SERVER_ROWS: list[tuple[str, Any]] = [
    ("version", lambda s: s.version),
    (
        "connections (of max)",
        lambda s: f"{s.connections}/{s.max_connections} ({s.connections_pct:.0f}%)",
    ),
    ("connections high-water", lambda s: str(s.connections_high_water)),
    ("threads running", lambda s: str(s.threads_running)),
    ("connection errors", lambda s: str(s.connection_errors)),
    ("queries per second", lambda s: f"{s.queries_per_second:.1f}"),
    ("slow queries (total)", lambda s: f"{s.slow_queries} ({s.slow_queries_total})"),
    (
        "buffer pool hit ratio",
        lambda s: "-" if s.buffer_pool_hit_pct is None else f"{s.buffer_pool_hit_pct:.2f}%",
    ),
    ("row lock waits (now)", lambda s: f"{s.row_lock_waits} ({s.row_lock_current_waits})"),
    ("replication", _replication),
    ("behind", _behind),
    ("replication state", lambda s: s.replication.sql_state if s.replication else "-"),
]
