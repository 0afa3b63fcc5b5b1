"""Idempotency keys of orders, durable: one row per (client, key) under a primary key.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

The row holds the exact event the key stands for (its ids minted once, prices as they were
when it was first used), so a retry publishes the same record again and the consumer
applies it once. Rows are not expired by the API: a key that vanished while its event is still
on the topic could be reused for another order (prune only rows older than the topics'
retention plus the clients' retry window).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        # The authenticated client (the token's subject): two clients' keys never collide.
        sa.Column("principal", sa.String(255, collation="ascii_bin"), primary_key=True),
        sa.Column("idem_key", sa.String(255, collation="ascii_bin"), primary_key=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("fingerprint", sa.CHAR(64), nullable=False),
        sa.Column("event_id", sa.CHAR(36), nullable=False),
        sa.Column("event", mysql.MEDIUMTEXT, nullable=False),
        sa.Column("status", sa.SmallInteger, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=False),
            nullable=False,
            server_default=sa.text("CURRENT_TIMESTAMP"),
        ),
        sa.Column("completed_at", sa.DateTime(timezone=False), nullable=True),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
    )
    op.create_index("idempotency_keys_created_at", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    op.drop_table("idempotency_keys")
