"""What `hyperscale kafka dlq replay` is asked to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hyperscale.kafka.dlq.filter import FilterSpec


@dataclass(frozen=True)
class ReplayRequest:
    #: DLQ topics; empty: every topic ending with the environment's dead-letter suffix.
    topics: Sequence[str] = ()
    #: Send everything here instead of each record's original topic.
    to: str | None = None
    filters: FilterSpec = field(default_factory=FilterSpec)
    #: Stop after this many records sent or parked (the next run goes on from there).
    limit: int | None = None
    dry_run: bool = False
    #: Consent given on the command line for a protected environment.
    yes: bool = False
    #: Park records already replayed this many times instead of replaying them again.
    max_attempts: int = 3
    parking_topic: str | None = None
    #: The checkpoint group; default: derived from topics, --to and filters.
    group: str | None = None
    records_per_second: float | None = None
    bytes_per_second: float | None = None
    #: Off: at least once (idempotent producer, offsets committed after each flushed batch).
    exactly_once: bool = True
    #: A transaction (a checkpoint) ends after this many records or seconds, whichever first.
    transaction_records: int = 10_000
    transaction_seconds: float = 1.0
    #: Records a dry run lists.
    samples: int = 20
    bootstrap: str | None = None
    timeout: float = 10.0
