"""Appending many valid, chained audit events at once (for tests that need a long trail)."""

from datetime import timedelta
from typing import Any

from sqlalchemy import insert, update

from app.audit.chain import event_hash
from app.audit.models import AuditEvent, AuditHead
from app.audit.service import read_head
from app.db import Database, session_scope, utcnow


def append_events(db: Database, count: int, *, payload_bytes: int = 100) -> int:
    """Append `count` events by a made-up actor; returns the new head seq."""
    with session_scope(db) as session:
        seq, prev = read_head(session)
        start = utcnow()
        rows: list[dict[str, Any]] = []
        for n in range(count):
            fields = {
                "seq": seq + 1 + n,
                "occurred_at": start + timedelta(microseconds=n),
                "actor_id": None,
                "actor_username": "bulk-loader",
                "actor_roles": ["system"],
                "action": "comment.create",
                "outcome": "success",
                "target_type": "comment",
                "target_id": str(n + 1),
                "request_id": None,
                "client_ip": None,
                "user_agent": None,
                "payload": {"after": {"body": "x" * payload_bytes}},
                "prev_hash": prev,
            }
            fields["hash"] = prev = event_hash(fields)
            rows.append(fields)
        session.execute(insert(AuditEvent.__table__), rows)
        session.execute(update(AuditHead.__table__).values(seq=seq + count, hash=prev))
    return seq + count
