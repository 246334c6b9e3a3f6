"""The audit head keeps the hash it chained its last event to

On PostgreSQL an event is appended by one statement that moves the head and hashes the
event there (see `app/audit/service.py`); the statement reads the event's `prev_hash`
back from this column, since an UPDATE's RETURNING shows only the new row.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 02:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_head", schema=None) as batch_op:
        batch_op.drop_column("prev_hash")
