"""Search outbox: threads waiting to be re-indexed in Meilisearch

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 09:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("task_uid", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_outbox")),
    )
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.create_index(
            "ix_search_outbox_done_at_available_at", ["done_at", "available_at"], unique=False
        )
        batch_op.create_index(
            "ix_search_outbox_question_id_done_at", ["question_id", "done_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("search_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_search_outbox_question_id_done_at")
        batch_op.drop_index("ix_search_outbox_done_at_available_at")
    op.drop_table("search_outbox")
