"""Typed results of `hyperscale kafka dlq replay`: what was read, sent, skipped and parked."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from hyperscale.exit_codes import ExitCode

if TYPE_CHECKING:
    from rich.console import Console


class ParkReason(StrEnum):
    """Why a record went to the parking topic instead of back to its topic."""

    #: Replayed ``--max-attempts`` times already: it would only loop again.
    MAX_ATTEMPTS = "max-attempts"
    #: No original-topic header and no ``--to``: nowhere to send it.
    NO_ORIGIN = "no-origin"
    #: Its original topic is itself a dead-letter or parking topic.
    ORIGIN_IS_DLQ = "origin-is-dlq"
    #: Its original topic no longer exists on the cluster.
    ORIGIN_MISSING = "origin-missing"


@dataclass(frozen=True)
class PlannedRecord:
    """One record as `--dry-run` shows it: where it comes from and exactly where it would go."""

    source: str
    partition: int
    offset: int
    action: str  # "send" or "park"
    target: str
    target_partition: int | None
    reason: str | None
    key: str | None
    key_encoding: str
    value_bytes: int
    timestamp_ms: int | None
    headers: list[dict[str, Any]]

    def to_data(self) -> dict[str, Any]:
        return {
            "source": {"topic": self.source, "partition": self.partition, "offset": self.offset},
            "action": self.action,
            "target": {"topic": self.target, "partition": self.target_partition},
            "reason": self.reason,
            "key": self.key,
            "key_encoding": self.key_encoding,
            "value_bytes": self.value_bytes,
            "timestamp_ms": self.timestamp_ms,
            "headers": self.headers,
        }


@dataclass
class ReplayCounts:
    """Running totals; the final report carries them. Every record read lands in exactly one
    of sent, parked, skipped_by_filter."""

    read: int = 0
    sent: int = 0
    bytes_sent: int = 0
    skipped_by_filter: int = 0
    parked: Counter[str] = field(default_factory=Counter)
    sent_to: Counter[str] = field(default_factory=Counter)
    #: Records deleted by retention between the checkpoint and the log start: never read.
    lost_to_retention: int = 0

    @property
    def parked_total(self) -> int:
        return sum(self.parked.values())

    @property
    def matched(self) -> int:
        return self.sent + self.parked_total


@dataclass(frozen=True)
class ReplayReport:
    environment: str
    bootstrap: str
    topics: list[str]
    #: The consumer group whose offsets are the checkpoint (also the transactional id).
    group: str
    target: str | None
    parking_topic: str
    dry_run: bool
    exactly_once: bool
    counts: ReplayCounts
    #: Records between the checkpoint and the end offsets captured at start.
    to_read: int
    #: Records still after the checkpoint when it stopped (--limit or interrupted).
    remaining: int
    elapsed_s: float
    interrupted: bool = False
    #: Why the run stopped early on an outside failure (the last transaction was aborted: its
    #: ``errors`` records were not sent and their offsets did not move).
    failure: str | None = None
    errors: int = 0
    limit_reached: bool = False
    created_topics: list[str] = field(default_factory=list)
    planned: list[PlannedRecord] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        if self.failure is not None:
            return ExitCode.EXTERNAL
        return ExitCode.INTERRUPTED if self.interrupted else ExitCode.OK

    def to_data(self) -> dict[str, Any]:
        c = self.counts
        data: dict[str, Any] = {
            "environment": self.environment,
            "bootstrap": self.bootstrap,
            "topics": self.topics,
            "group": self.group,
            "target": self.target,
            "parking_topic": self.parking_topic,
            "dry_run": self.dry_run,
            "exactly_once": self.exactly_once,
            "interrupted": self.interrupted,
            "limit_reached": self.limit_reached,
            "to_read": self.to_read,
            "read": c.read,
            "sent": c.sent,
            "bytes_sent": c.bytes_sent,
            "skipped_by_filter": c.skipped_by_filter,
            "parked": c.parked_total,
            "parked_by_reason": dict(c.parked.most_common()),
            "sent_by_topic": dict(c.sent_to.most_common()),
            "lost_to_retention": c.lost_to_retention,
            "errors": self.errors,
            "failure": self.failure,
            "remaining": self.remaining,
            "elapsed_s": round(self.elapsed_s, 3),
            "created_topics": self.created_topics,
        }
        if self.dry_run:
            data["planned"] = [p.to_data() for p in self.planned]
        return data

    def render(self, console: Console) -> None:
        from rich.markup import escape
        from rich.table import Table

        c = self.counts
        verb = "would send" if self.dry_run else "sent"
        rate = f", {c.read / self.elapsed_s:,.0f} records/s" if self.elapsed_s > 0 else ""
        console.print(
            f"[bold]{escape(', '.join(self.topics) or '(no DLQ topics)')}[/]:"
            f" read {c.read:,}, {verb} {c.sent:,}, parked {c.parked_total:,},"
            f" skipped by filter {c.skipped_by_filter:,}, errors {self.errors:,}"
            f" in {self.elapsed_s:.1f}s{rate}"
        )
        if c.sent_to:
            table = Table(title="sent to" if not self.dry_run else "would send to")
            table.add_column("topic", overflow="fold")
            table.add_column("records", justify="right")
            for topic, count in c.sent_to.most_common():
                table.add_row(escape(topic), f"{count:,}")
            console.print(table)
        if c.parked:
            reasons = ", ".join(f"{r} {n:,}" for r, n in c.parked.most_common())
            console.print(f"[yellow]parked in {escape(self.parking_topic)}: {reasons}[/]")
        if c.lost_to_retention:
            console.print(
                f"[yellow]{c.lost_to_retention:,} record(s) were deleted by retention before"
                " they could be replayed[/]"
            )
        for record in self.planned:
            where = record.target + (
                f"[{record.target_partition}]" if record.target_partition is not None else ""
            )
            why = f" ({record.reason})" if record.reason else ""
            console.print(
                f"  {escape(record.source)}[{record.partition}]@{record.offset}"
                f" -> {record.action} {escape(where)}{escape(why)}, key {escape(repr(record.key))},"
                f" {record.value_bytes} bytes, {len(record.headers)} headers"
            )
        if self.dry_run and c.matched > len(self.planned):
            console.print(
                f"  ... and {c.matched - len(self.planned):,} more (--samples to see more)"
            )
        if self.failure is not None:
            console.print(
                f"[bold red]error:[/] {escape(self.failure)}; the last transaction was aborted,"
                " so nothing is lost or doubled: run the same command again to resume"
            )
        elif self.dry_run:
            console.print("dry run: nothing was sent and no offset moved")
        elif self.interrupted or self.limit_reached:
            why = "interrupted" if self.interrupted else "stopped at --limit"
            console.print(
                f"{why}: {self.remaining:,} record(s) left; run the same command again to go"
                f" on from the checkpoint (group {escape(self.group)})"
            )
        else:
            console.print(f"done; checkpoint in consumer group {escape(self.group)}")
