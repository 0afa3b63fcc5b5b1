"""A batch of events -> MySQL, in one transaction, each event applied at most once.

Per batch: one ``SELECT ... IN`` finds the event ids already applied, then one multi-row
``INSERT`` per table.
Marketing events are summed per campaign in memory first, so a batch of 500 impressions for
ten campaigns is ten counter updates, not 500.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from platform_events import MarketingEvent, OrderCreated

from platform_consumer.db import is_record_error
from platform_consumer.records import DecodedRecord, PoisonRecord, UnapplicableRecordError

if TYPE_CHECKING:
    from pymysql.connections import Connection
    from pymysql.cursors import Cursor

log = logging.getLogger(__name__)

ORDER_STATUS_CREATED = "created"

INSERT_PROCESSED = (
    "INSERT INTO processed_events (event_id, topic, kafka_partition, kafka_offset) VALUES "
)
INSERT_ORDER = (
    "INSERT INTO orders (order_id, customer_id, status, total_cents, currency, created_at) VALUES "
)
INSERT_ORDER_LINE = (
    "INSERT INTO order_lines (order_id, line_no, sku, quantity, unit_price_cents) VALUES "
)
UPSERT_CAMPAIGN = (
    "INSERT INTO campaign_stats"
    " (campaign_id, impressions, clicks, conversions, conversion_value_cents) VALUES "
)
UPSERT_CAMPAIGN_SUFFIX = (
    " ON DUPLICATE KEY UPDATE"
    " impressions = impressions + VALUES(impressions),"
    " clicks = clicks + VALUES(clicks),"
    " conversions = conversions + VALUES(conversions),"
    " conversion_value_cents = conversion_value_cents + VALUES(conversion_value_cents),"
    " updated_at = CURRENT_TIMESTAMP"
)
#: Rows per INSERT statement: far below max_allowed_packet even for 500-line orders.
MAX_ROWS_PER_STATEMENT = 2000

Sleep = Callable[[float], None]
#: Called between the tries of a record-by-record pass; it raises to end the pass.
Checkpoint = Callable[[], None]


def _no_checkpoint() -> None:
    pass


@dataclass
class BatchResult:
    applied: int = 0
    duplicates: int = 0
    #: Records whose data the database refused, after ``max_attempts`` tries each.
    failed: list[PoisonRecord] = field(default_factory=list)
    #: True when a record error made the batch fall back to one savepoint per record.
    isolated: bool = False


@dataclass
class _CampaignDelta:
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    value_cents: int = 0


# The statements are built from SQL literals here rather than through PyMySQL's executemany:
# its generic per-value escaping was a third of the consumer's CPU time. Strings still go
# through the connection's escape (which honours NO_BACKSLASH_ESCAPES); integers are formatted
# with ``:d`` (anything else raises); UUIDs are ``str(uuid.UUID)``, hex digits and dashes only.


def _utc_literal(moment: datetime) -> str:
    """DATETIME columns hold UTC without a zone; a naive input is taken as UTC already."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return "'" + moment.isoformat(sep=" ", timespec="seconds") + "'"


def _insert(cursor: Cursor, head: str, rows: Sequence[str], tail: str = "") -> None:
    for start in range(0, len(rows), MAX_ROWS_PER_STATEMENT):
        # No arguments: PyMySQL sends the statement as is, without %-interpolation.
        cursor.execute(head + ",".join(rows[start : start + MAX_ROWS_PER_STATEMENT]) + tail)


def _unseen(cursor: Cursor, records: Sequence[DecodedRecord]) -> list[DecodedRecord]:
    """The records to apply: not in processed_events, and the first of any repeated id."""
    ids = ",".join(f"'{event_id}'" for event_id in dict.fromkeys(r.event_id for r in records))
    cursor.execute(f"SELECT event_id FROM processed_events WHERE event_id IN ({ids})")  # noqa: S608 - UUID literals
    seen = {row[0] for row in cursor.fetchall()}
    fresh = []
    for record in records:
        if record.event_id not in seen:
            seen.add(record.event_id)
            fresh.append(record)
    return fresh


def _rows_of(
    item: DecodedRecord,
    escape: Callable[[object], str],
    topics: dict[str, str],
    processed: list[str],
    orders: list[str],
    lines: list[str],
    campaigns: dict[str, _CampaignDelta],
) -> None:
    """One record's rows, appended to the batch's lists only once all of them are built."""
    record, event = item.record, item.event
    topic = topics.get(record.topic)
    if topic is None:
        topic = topics[record.topic] = escape(record.topic)
    processed_row = f"('{item.event_id}',{topic},{record.partition:d},{record.offset:d})"
    if isinstance(event, OrderCreated):
        order = event.order
        order_id = str(order.order_id)
        order_row = (
            f"('{order_id}',{escape(order.customer_id)},'{ORDER_STATUS_CREATED}',"
            f"{order.total_cents:d},{escape(order.currency)},{_utc_literal(event.occurred_at)})"
        )
        line_rows = [
            f"('{order_id}',{number:d},{escape(line.sku)},{line.quantity:d},"
            f"{line.unit_price_cents:d})"
            for number, line in enumerate(order.lines, start=1)
        ]
        orders.append(order_row)
        lines.extend(line_rows)
    elif isinstance(event, MarketingEvent):
        delta = campaigns.get(event.campaign_id)
        if delta is None:
            delta = campaigns[event.campaign_id] = _CampaignDelta()
        if event.type == "impression":
            delta.impressions += 1
        elif event.type == "click":
            delta.clicks += 1
        else:
            delta.conversions += 1
            delta.value_cents += event.value_cents
    processed.append(processed_row)


def apply_batch(cursor: Cursor, records: Sequence[DecodedRecord]) -> tuple[int, int]:
    """Apply the records not yet applied; returns (applied, duplicates skipped).

    processed_events is written first: a second consumer racing on the same event (a zombie
    after a rebalance) blocks on that row and then fails, before it touches anything else.
    """
    if not records:
        return 0, 0
    fresh = _unseen(cursor, records)
    if not fresh:
        return 0, len(records)

    escape = cursor.connection.escape
    topics: dict[str, str] = {}
    processed: list[str] = []
    orders: list[str] = []
    lines: list[str] = []
    campaigns: dict[str, _CampaignDelta] = {}
    for item in fresh:
        try:
            _rows_of(item, escape, topics, processed, orders, lines, campaigns)
        except Exception as exc:
            # Only this record's values can be the cause (nothing was sent yet): the caller's
            # record-by-record pass finds it and dead-letters it.
            raise UnapplicableRecordError(f"{type(exc).__name__}: {exc}") from exc

    _insert(cursor, INSERT_PROCESSED, processed)
    if orders:
        _insert(cursor, INSERT_ORDER, orders)
        _insert(cursor, INSERT_ORDER_LINE, lines)
    if campaigns:
        # A fixed order of row locks: two consumers that share campaigns cannot deadlock.
        _insert(
            cursor,
            UPSERT_CAMPAIGN,
            [
                f"({escape(cid)},{d.impressions:d},{d.clicks:d},{d.conversions:d},"
                f"{d.value_cents:d})"
                for cid, d in sorted(campaigns.items())
            ],
            UPSERT_CAMPAIGN_SUFFIX,
        )
    return len(fresh), len(records) - len(fresh)


def _retry_delay(attempt: int) -> float:
    return float(min(0.05 * 2 ** (attempt - 1), 1.0))


def apply_isolated(
    connection: Connection[Cursor],
    records: Sequence[DecodedRecord],
    max_attempts: int,
    sleep: Sleep = time.sleep,
    keep_going: Checkpoint = _no_checkpoint,
) -> BatchResult:
    """One savepoint per record, so a record the database refuses leaves the others applied.

    A refused record is tried ``max_attempts`` times (a conflicting transaction may have been
    the cause) and then reported as failed, for the caller to dead-letter. ``keep_going`` is
    called before each try: what it raises ends the pass, for the caller to roll back.
    """
    result = BatchResult(isolated=True)
    with connection.cursor() as cursor:
        for record in records:
            for attempt in range(1, max_attempts + 1):
                keep_going()
                cursor.execute("SAVEPOINT platform_record")
                try:
                    applied, duplicates = apply_batch(cursor, [record])
                except Exception as exc:
                    if not is_record_error(exc):
                        raise
                    cursor.execute("ROLLBACK TO SAVEPOINT platform_record")
                    # Values that cannot become rows fail the same way every time.
                    if attempt == max_attempts or isinstance(exc, UnapplicableRecordError):
                        result.failed.append(PoisonRecord(record.record, exc, attempt))
                        break
                    sleep(_retry_delay(attempt))
                    continue
                cursor.execute("RELEASE SAVEPOINT platform_record")
                result.applied += applied
                result.duplicates += duplicates
                break
    return result


def apply_in_transaction(
    connection: Connection[Cursor],
    records: Sequence[DecodedRecord],
    max_attempts: int,
    sleep: Sleep = time.sleep,
    keep_going: Checkpoint = _no_checkpoint,
) -> BatchResult:
    """The whole batch, then COMMIT. A record error rolls back and retries record by record.

    Other errors propagate with the transaction rolled back by the caller; nothing of the
    batch is committed then, and the caller applies the same records again.
    """
    try:
        with connection.cursor() as cursor:
            applied, duplicates = apply_batch(cursor, records)
        result = BatchResult(applied=applied, duplicates=duplicates)
    except Exception as exc:
        if not is_record_error(exc):
            raise
        log.warning(
            "a record in the batch was refused; applying the batch record by record",
            extra={"error": f"{type(exc).__name__}: {exc}", "records": len(records)},
        )
        connection.rollback()
        result = apply_isolated(connection, records, max_attempts, sleep, keep_going)
    connection.commit()
    return result
