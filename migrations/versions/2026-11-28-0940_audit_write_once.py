"""Audit events are write-once on PostgreSQL: triggers refuse UPDATE, DELETE and TRUNCATE.

SQLite has no roles and its file is as editable as the rows, so no trigger is
added there; on both backends tampering is caught by verifying the hash chain.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 09:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = "audit_events_refuse_change"
ROW_TRIGGER = "audit_events_write_once"
TRUNCATE_TRIGGER = "audit_events_no_truncate"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """
    )
    op.execute(
        f"CREATE TRIGGER {ROW_TRIGGER} BEFORE UPDATE OR DELETE ON audit_events "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )
    # Row triggers do not fire on TRUNCATE; a statement trigger does.
    op.execute(
        f"CREATE TRIGGER {TRUNCATE_TRIGGER} BEFORE TRUNCATE ON audit_events "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRUNCATE_TRIGGER} ON audit_events")
    op.execute(f"DROP TRIGGER IF EXISTS {ROW_TRIGGER} ON audit_events")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
