"""Typed results of `hyperscale dr backup|backups|restore|verify|discard`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hyperscale.dr.store import Manifest
from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


_KIB = 1024


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < _KIB or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= _KIB
    return f"{size} B"


@dataclass(frozen=True)
class BackupResult:
    manifest: Manifest
    path: str
    pruned: list[str] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {"backup": self.manifest.to_data(), "path": self.path, "pruned": self.pruned}

    def render(self, console: Console) -> None:
        m = self.manifest
        console.print(
            f"backup [bold]{m.id}[/] of {m.env}: {human_bytes(m.size_bytes)} in"
            f" {m.duration_seconds:.1f}s (writes paused {m.write_pause_seconds:.2f}s)"
        )
        console.print(f"  binlog {m.binlog_file}:{m.binlog_position}, GTID {m.gtid or '-'}")
        rows = ", ".join(f"{t.table} {t.rows}" for t in m.tables)
        console.print(f"  {len(m.tables)} tables checksummed: {rows}")
        console.print(f"  in {self.path}")
        if self.pruned:
            console.print(f"  retention removed {len(self.pruned)}: {', '.join(self.pruned)}")


@dataclass(frozen=True)
class BackupListResult:
    env: str
    backups: list[Manifest]
    exit_code: ExitCode = ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {"env": self.env, "backups": [m.to_data() for m in self.backups]}

    def render(self, console: Console) -> None:
        from rich.table import Table

        if not self.backups:
            console.print(f"no backups for {self.env} (`hyperscale dr backup --env {self.env}`)")
            return
        table = Table("id", "taken (UTC)", "size", "tables", "rows", "binlog position", "GTID")
        for m in self.backups:
            table.add_row(
                m.id,
                m.finished_at[:19].replace("T", " "),
                human_bytes(m.size_bytes),
                str(len(m.tables)),
                str(sum(t.rows for t in m.tables)),
                f"{m.binlog_file}:{m.binlog_position}",
                m.gtid or "-",
            )
        console.print(table)


@dataclass(frozen=True)
class TableCheck:
    table: str
    expected_rows: int | None
    rows: int | None
    expected_checksum: int | None
    checksum: int | None

    @property
    def problem(self) -> str | None:
        if self.expected_rows is None:
            return "not in the backup"
        if self.rows is None:
            return "missing"
        if self.rows != self.expected_rows:
            return f"{self.rows} rows, the backup has {self.expected_rows}"
        if self.checksum != self.expected_checksum:
            return f"checksum {self.checksum}, the backup has {self.expected_checksum}"
        return None

    def to_data(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "expected_rows": self.expected_rows,
            "rows": self.rows,
            "expected_checksum": self.expected_checksum,
            "checksum": self.checksum,
            "ok": self.problem is None,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Verification:
    backup_id: str
    checks: list[TableCheck]
    seconds: float

    @property
    def differences(self) -> list[TableCheck]:
        return [c for c in self.checks if c.problem is not None]

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_data(self) -> dict[str, Any]:
        return {
            "backup": self.backup_id,
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "differences": [c.table for c in self.differences],
            "tables": [c.to_data() for c in self.checks],
        }

    def render(self, console: Console) -> None:
        if self.ok:
            console.print(
                f"verified: {len(self.checks)} tables match backup {self.backup_id}"
                f" (row counts and CHECKSUM TABLE, {self.seconds:.2f}s)"
            )
            return
        console.print(f"[bold red]verification failed[/] against backup {self.backup_id}:")
        for check in self.differences:
            console.print(f"  {check.table}: {check.problem}")


@dataclass(frozen=True)
class RestoreResult:
    backup_id: str
    #: "scratch" or "in-place"
    into: str
    address: str
    restore_seconds: float
    verification: Verification | None
    dry_run: bool = False
    plan: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Point-in-time recovery: the time the binary logs were replayed up to, and how much.
    recovered_until: str | None = None
    transactions_replayed: int = 0

    @property
    def exit_code(self) -> ExitCode:
        if self.verification is not None and not self.verification.ok:
            return ExitCode.CHECK_FAILED
        return ExitCode.OK

    @property
    def rto_seconds(self) -> float:
        verify = self.verification.seconds if self.verification else 0.0
        return self.restore_seconds + verify

    def to_data(self) -> dict[str, Any]:
        return {
            "backup": self.backup_id,
            "into": self.into,
            "address": self.address,
            "dry_run": self.dry_run,
            "plan": self.plan,
            "restore_seconds": round(self.restore_seconds, 3),
            "rto_seconds": round(self.rto_seconds, 3),
            "verification": self.verification.to_data() if self.verification else None,
            "recovered_until": self.recovered_until,
            "transactions_replayed": self.transactions_replayed,
            "notes": self.notes,
        }

    def render(self, console: Console) -> None:
        if self.dry_run:
            console.print(f"dry run: restore backup {self.backup_id} {self.into} would")
            for step in self.plan:
                console.print(f"  - {step}")
            return
        console.print(
            f"restored backup [bold]{self.backup_id}[/] {self.into} at {self.address}"
            f" in {self.restore_seconds:.1f}s (with verification {self.rto_seconds:.1f}s)"
        )
        if self.verification:
            self.verification.render(console)
        for note in self.notes:
            console.print(f"  {note}")


@dataclass(frozen=True)
class VerifyResult:
    address: str
    verification: Verification

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode.OK if self.verification.ok else ExitCode.CHECK_FAILED

    def to_data(self) -> dict[str, Any]:
        return {"address": self.address, "verification": self.verification.to_data()}

    def render(self, console: Console) -> None:
        console.print(f"scratch MariaDB at {self.address}")
        self.verification.render(console)


@dataclass(frozen=True)
class DiscardResult:
    stopped: bool
    removed: str | None
    exit_code: ExitCode = ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        return {"stopped": self.stopped, "removed": self.removed}

    def render(self, console: Console) -> None:
        if not self.stopped and not self.removed:
            console.print("no scratch MariaDB to discard")
            return
        console.print("scratch MariaDB " + ("stopped" if self.stopped else "was not running"))
        if self.removed:
            console.print(f"  removed {self.removed}")
