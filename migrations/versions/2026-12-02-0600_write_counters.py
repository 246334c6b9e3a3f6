"""Per-user write counters for the write rate limit

One row per user who writes, holding the start of the current fixed window and the
writes counted in it; each write upserts it (see `app/limits/writes.py`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_counters",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("writes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_write_counters_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_write_counters")),
    )


def downgrade() -> None:
    op.drop_table("write_counters")
