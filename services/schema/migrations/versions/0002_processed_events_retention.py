"""processed_events: an index on processed_at, so the consumer's retention deletes the oldest
rows without scanning the table (platform_consumer/retention.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEX = "ix_processed_events_processed_at"


def upgrade() -> None:
    op.create_index(INDEX, "processed_events", ["processed_at"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="processed_events")
