"""Appending to the audit chain and verifying it in the database."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.actions import ACTIONS
from app.audit.chain import VerifyReport, event_hash, verify_events
from app.audit.models import AuditEvent, AuditHead
from app.db import utcnow

HEAD_ROW_ID = 1
VERIFY_BATCH = 5_000


@dataclass(frozen=True)
class Actor:
    """Who acts: a user, or nobody (anonymous login attempts, the command line)."""

    id: int | None = None
    username: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditContext:
    """The request facts every event carries."""

    actor: Actor = field(default_factory=Actor)
    request_id: str | None = None
    client_ip: str | None = None
    user_agent: str | None = None

    def as_actor(self, actor: Actor) -> "AuditContext":
        return AuditContext(actor, self.request_id, self.client_ip, self.user_agent)


def record(
    session: Session,
    ctx: AuditContext,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | str | None = None,
    payload: dict[str, Any] | None = None,
    outcome: str = "success",
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction.

    The head row is locked for the rest of the transaction, so concurrent
    writers append one after another and `seq` stays gap-free.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    head = session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ROW_ID).with_for_update()
    ).scalar_one()
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        "occurred_at": utcnow(),
        "actor_id": ctx.actor.id,
        "actor_username": ctx.actor.username,
        "actor_roles": list(ctx.actor.roles),
        "action": action,
        "outcome": outcome,
        "target_type": target_type,
        "target_id": None if target_id is None else str(target_id),
        "request_id": ctx.request_id,
        "client_ip": ctx.client_ip,
        "user_agent": ctx.user_agent,
        "payload": payload or {},
        "prev_hash": head.hash,
    }
    event = AuditEvent(**fields, hash=event_hash(fields))
    session.add(event)
    head.seq, head.hash = event.seq, event.hash
    session.flush()
    return event


def iter_events(session: Session, batch: int = VERIFY_BATCH) -> Iterator[dict[str, Any]]:
    """Every event in `seq` order as plain dicts, fetched in keyset batches.

    Rows are read as Core mappings, not ORM objects, so nothing accumulates in
    the session and memory stays flat however long the chain is.
    """
    table = AuditEvent.__table__
    after = 0
    while True:
        rows = (
            session.execute(
                select(table).where(table.c.seq > after).order_by(table.c.seq).limit(batch)
            )
            .mappings()
            .all()
        )
        if not rows:
            return
        for row in rows:
            yield dict(row)
        after = rows[-1]["seq"]


def verify_chain(session: Session) -> VerifyReport:
    """Recompute the whole chain and check that it ends at the recorded head."""
    report = verify_events(iter_events(session))
    if not report.ok:
        return report
    head = session.get(AuditHead, HEAD_ROW_ID)
    head_seq = head.seq if head else 0
    if (report.head_seq or 0) != head_seq:
        # Events were removed from the end: the chain is intact but shorter than recorded.
        first_missing = (report.head_seq or 0) + 1
        report.ok, report.first_bad_seq = False, first_missing
        report.reason = f"the chain ends at seq {report.head_seq}, the head says {head_seq}"
    return report
