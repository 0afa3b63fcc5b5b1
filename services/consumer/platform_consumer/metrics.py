"""The consumer's Prometheus metrics, in a registry of their own."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

PREFIX = "platform_consumer"


DB_RETRY_REASONS = ("connection", "lock", "other")
KAFKA_RETRY_OPERATIONS = ("offset-commit", "dead-letter")
DEAD_LETTER_REASONS = ("decode", "database")

# ``*_created`` series double the exposition and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream


class ConsumerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        r = self.registry
        self.records_consumed = Counter(
            f"{PREFIX}_records_consumed",
            "Records read from Kafka, by topic.",
            ["topic"],
            registry=r,
        )
        self.events_applied = Counter(
            f"{PREFIX}_events_applied", "Events written to MySQL (first delivery).", registry=r
        )
        self.duplicates_skipped = Counter(
            f"{PREFIX}_duplicates_skipped",
            "Events skipped because their event_id was applied already.",
            registry=r,
        )
        self.dead_lettered = Counter(
            f"{PREFIX}_dead_lettered",
            "Poison records sent to a dead-letter topic, by source topic and reason.",
            ["topic", "reason"],
            registry=r,
        )
        self.batch_duration = Histogram(
            f"{PREFIX}_batch_duration_seconds",
            "Decode + apply + dead-letter + offset commit, per batch.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=r,
        )
        self.batch_size = Histogram(
            f"{PREFIX}_batch_records",
            "Records per batch.",
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000),
            registry=r,
        )
        self.last_commit = Gauge(
            f"{PREFIX}_last_commit_timestamp_seconds",
            "When offsets were last committed (after the MySQL commit), Unix time.",
            registry=r,
        )
        self.db_retries = Counter(
            f"{PREFIX}_db_retries",
            "MySQL attempts that failed and were retried, by reason.",
            ["reason"],
            registry=r,
        )
        self.kafka_retries = Counter(
            f"{PREFIX}_kafka_retries",
            "Offset commits and dead-letter deliveries retried, by operation.",
            ["operation"],
            registry=r,
        )
        self.uncommitted_batches = Counter(
            f"{PREFIX}_uncommitted_batches",
            "Batches applied to MySQL whose offsets the group refused (after a rebalance);"
            " their records come back and are skipped as duplicates.",
            registry=r,
        )
        self.stalled_seconds = Gauge(
            f"{PREFIX}_stalled_seconds",
            "How long records have been waiting on assigned partitions with none read (0 while"
            " reading or caught up); at CONSUMER_STALL_TIMEOUT_S the consumer exits.",
            registry=r,
        )
        self.stalls = Counter(
            f"{PREFIX}_stalls",
            "Times the progress watchdog found records waiting and none read for the stall"
            " timeout, and ended the consumer so that supervision starts a fresh one.",
            registry=r,
        )
        self.pruned = Counter(
            f"{PREFIX}_processed_events_pruned",
            "processed_events rows deleted because they outlived the redelivery window.",
            registry=r,
        )
        self.prune_failures = Counter(
            f"{PREFIX}_prune_failures",
            "Pruning rounds that failed (logged; tried again at the next interval).",
            registry=r,
        )

    def prime(self, topics: tuple[str, ...]) -> None:
        """Export every labelled series at 0 from the start, so rates and alerts see them."""
        for topic in topics:
            self.records_consumed.labels(topic)
            for reason in DEAD_LETTER_REASONS:
                self.dead_lettered.labels(topic, reason)
        for reason in DB_RETRY_REASONS:
            self.db_retries.labels(reason)
        for operation in KAFKA_RETRY_OPERATIONS:
            self.kafka_retries.labels(operation)
