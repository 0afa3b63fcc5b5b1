"""The platform's tables: catalogue, stock, orders, campaign counters, processed events.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_INNODB = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4"}


def _updated_at() -> sa.Column[object]:
    return sa.Column(
        "updated_at",
        sa.DateTime(timezone=False),
        nullable=False,
        server_default=sa.text("CURRENT_TIMESTAMP"),
    )


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=sa.text("('')")),
        sa.Column("price_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        _updated_at(),
        **_INNODB,
    )
    op.create_table(
        "inventory",
        sa.Column("sku", sa.String(64), sa.ForeignKey("products.sku"), primary_key=True),
        sa.Column("warehouse", sa.String(32), primary_key=True),
        sa.Column("quantity", sa.Integer, nullable=False),
        _updated_at(),
        **_INNODB,
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.CHAR(36), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_cents", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.CHAR(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column(
            "applied_at",
            sa.DateTime(timezone=False),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        **_INNODB,
    )
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.CHAR(36), sa.ForeignKey("orders.order_id"), primary_key=True),
        sa.Column("line_no", sa.SmallInteger, primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price_cents", sa.BigInteger, nullable=False),
        **_INNODB,
    )
    op.create_table(
        "campaign_stats",
        sa.Column("campaign_id", sa.String(64), primary_key=True),
        sa.Column("impressions", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("clicks", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("conversions", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("conversion_value_cents", sa.BigInteger, nullable=False, server_default="0"),
        _updated_at(),
        **_INNODB,
    )
    # One row per applied event: the consumer's at-most-once guard (a redelivered event finds
    # its id here and is skipped, in the same transaction that would have applied it).
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.CHAR(36), primary_key=True),
        sa.Column("topic", sa.String(249), nullable=False),
        sa.Column("kafka_partition", sa.Integer, nullable=False),
        sa.Column("kafka_offset", sa.BigInteger, nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=False),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        **_INNODB,
    )


def downgrade() -> None:
    for table in (
        "processed_events",
        "campaign_stats",
        "order_lines",
        "orders",
        "inventory",
        "products",
    ):
        op.drop_table(table)
