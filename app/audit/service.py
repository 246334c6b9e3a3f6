"""Appending to the audit chain, reading it back in batches, verifying it in the database."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Engine, Table, Text, bindparam, func, insert, literal, select, update
from sqlalchemy import cast as sql_cast
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from app.audit import reading
from app.audit.actions import ACTIONS
from app.audit.chain import VerifyReport, canonical_around_head, event_hash, verify_events
from app.audit.models import GENESIS_HASH, AuditEvent, AuditHead
from app.db import copy_rows, utcnow

HEAD_ROW_ID = 1
_EVENTS = cast(Table, AuditEvent.__table__)
# From this many events in one transaction (an import's batch), PostgreSQL takes them by
# COPY; a request's few go in one INSERT, one round trip fewer.
COPY_FROM = 100
_HEAD = cast(Table, AuditHead.__table__)
VERIFY_BATCH = 5_000
PENDING = "vouch.audit.pending"  # session.info: the events to append at commit


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


@dataclass(frozen=True)
class Event:
    """One event for `record_many`: `record`'s arguments less the context."""

    action: str
    target_type: str | None = None
    target_id: int | str | None = None
    payload: dict[str, Any] | None = None
    outcome: str = "success"

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown audit action {self.action!r}")


def _columns(ctx: AuditContext, event: Event, at: datetime) -> dict[str, Any]:
    """The stored columns of `event` but its place in the chain (number, hashes)."""
    return {
        "occurred_at": at,
        "actor_id": ctx.actor.id,
        "actor_username": ctx.actor.username,
        "actor_roles": list(ctx.actor.roles),
        "action": event.action,
        "outcome": event.outcome,
        "target_type": event.target_type,
        "target_id": None if event.target_id is None else str(event.target_id),
        "request_id": ctx.request_id,
        "client_ip": ctx.client_ip,
        "user_agent": ctx.user_agent,
        "payload": event.payload or {},
    }


def _fields(
    ctx: AuditContext, event: Event, seq: int, prev_hash: str, at: datetime
) -> dict[str, Any]:
    """The stored columns of `event` as number `seq` after `prev_hash`, with its hash."""
    fields = {"seq": seq, **_columns(ctx, event, at), "prev_hash": prev_hash}
    fields["hash"] = event_hash(fields)
    return fields


def record(
    session: Session,
    ctx: AuditContext,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | str | None = None,
    payload: dict[str, Any] | None = None,
    outcome: str = "success",
) -> None:
    """Record one event in the caller's transaction: it is appended to the chain as the
    transaction's last statements, when it commits (see `record_many`)."""
    record_many(session, ctx, [Event(action, target_type, target_id, payload, outcome)])


def record_many(session: Session, ctx: AuditContext, events: list[Event]) -> None:
    """Record `events`, in order, in the caller's transaction.

    Nothing is sent now: the events are kept on the session and appended when it
    commits, after everything else it writes (a `before_commit` hook). So the chain's
    head, whose row lock serialises every writer until its commit, is taken as the last
    statement before the commit and held for that statement and the commit only, not
    for the rest of the request (the service's remaining work, the response). A
    transaction that rolls back appends nothing. Three statements however many events:
    the head moves by their number, they are inserted together, the head takes the
    last one's hash (one event on PostgreSQL: one statement, which hashes it there).
    """
    if events:
        at = utcnow()
        pending = session.info.setdefault(PENDING, [])
        pending.extend((ctx, event, at) for event in events)


def record_now(session: Session, ctx: AuditContext, action: str, **fields: Any) -> AuditEvent:
    """Append one event to the chain now, in the caller's transaction, after the events
    it recorded before; returns it with its number. For the rare event whose number is
    needed at once (an export's: the last one it may include); the head stays locked
    until the caller commits."""
    _append_pending(session)
    return _append(session, ctx, Event(action, **fields), utcnow())


def _append_pending(session: Session) -> None:
    pending = session.info.pop(PENDING, None)
    if not pending:
        return
    if len(pending) == 1:
        ctx, event, at = pending[0]
        _append(session, ctx, event, at)
        return
    last, head_hash = session.execute(_MOVE_HEAD_BY, {"count": len(pending)}).one()
    rows, prev_hash = [], head_hash
    for seq, (ctx, event, at) in enumerate(pending, start=last - len(pending) + 1):
        fields = _fields(ctx, event, seq, prev_hash, at)
        rows.append(fields)
        prev_hash = fields["hash"]
    if len(rows) >= COPY_FROM and session.get_bind().dialect.name == "postgresql":
        copy_rows(session, _EVENTS, rows)
    else:
        session.execute(insert(_EVENTS), rows)
    session.execute(_SET_HEAD_HASH, {"event_hash": prev_hash})


def _append(session: Session, ctx: AuditContext, event: Event, at: datetime) -> AuditEvent:
    if session.get_bind().dialect.name == "postgresql":
        columns = _columns(ctx, event, at)
        before, between, after = canonical_around_head(columns)
        params = {f"event_{name}": value for name, value in columns.items()}
        seq, prev_hash, hash_ = session.execute(
            _APPEND_PG, {**params, "before": before, "between": between, "after": after}
        ).one()
        return AuditEvent(seq=seq, **columns, prev_hash=prev_hash, hash=hash_)
    seq, prev_hash = session.execute(_MOVE_HEAD).one()
    fields = _fields(ctx, event, seq, prev_hash, at)
    params = {f"event_{name}": value for name, value in fields.items()}
    session.execute(_APPEND, params)
    session.execute(_SET_HEAD_HASH, params)
    return AuditEvent(**fields)


@orm_event.listens_for(Session, "before_commit")
def _append_at_commit(session: Session) -> None:
    if session.info.get(PENDING):
        # The commit flushes only after this hook: what is still pending goes first, so
        # that the head is the transaction's last statement.
        session.flush()
    _append_pending(session)


@orm_event.listens_for(Session, "after_rollback")
def _forget_at_rollback(session: Session) -> None:
    session.info.pop(PENDING, None)


# Built once: building statements per event costs more than running them.
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ROW_ID)
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_MOVE_HEAD_BY = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ROW_ID)
    .values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_APPEND = insert(_EVENTS).values({c: bindparam(f"event_{c.name}", type_=c.type) for c in _EVENTS.c})
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == HEAD_ROW_ID).values(hash=bindparam("event_hash"))

# On PostgreSQL one statement appends an event, holding the head's lock for no more than
# itself and the commit behind it: it moves the head, finishes the event's canonical text
# with the head's number and hash (`canonical_around_head`), hashes it with PostgreSQL's
# sha256() and inserts the event. The UPDATE's expressions see the head as it is once its
# lock is granted (READ COMMITTED re-reads a row it waited for), so concurrent appends
# chain one after another; verification hashes the stored event in Python, as ever.
_HEAD_TEXT = (
    bindparam("before", type_=Text)
    + _HEAD.c.hash
    + bindparam("between", type_=Text)
    + sql_cast(_HEAD.c.seq + 1, Text)
    + bindparam("after", type_=Text)
)
_MOVED_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == HEAD_ROW_ID)
    .values(
        seq=_HEAD.c.seq + 1,
        prev_hash=_HEAD.c.hash,
        hash=func.encode(func.sha256(func.convert_to(_HEAD_TEXT, literal("UTF8"))), "hex"),
    )
    .returning(_HEAD.c.seq, _HEAD.c.prev_hash, _HEAD.c.hash)
    .cte("head")
)
_CHAIN_COLUMNS = ("seq", "prev_hash", "hash")
_APPEND_PG = (
    insert(_EVENTS)
    .from_select(
        [c.name for c in _EVENTS.c],
        select(
            *(
                _MOVED_HEAD.c[c.name]
                if c.name in _CHAIN_COLUMNS
                else bindparam(f"event_{c.name}", type_=c.type)
                for c in _EVENTS.c
            )
        ),
    )
    .returning(*(_EVENTS.c[name] for name in _CHAIN_COLUMNS))
)


def read_head(session: Session) -> tuple[int, str]:
    """The chain's recorded head `(seq, hash)`: `(0, GENESIS_HASH)` while it is empty.

    Read with a fresh query every time (never from the session's identity map),
    so a second read sees appends committed since the first.
    """
    query = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ROW_ID)
    seq, hash_ = session.execute(query).one()
    return int(seq), str(hash_)


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at a moment: keep it outside the database to check later."""

    seq: int
    hash: str
    occurred_at: datetime | None


def checkpoint(session: Session) -> Checkpoint:
    seq, hash_ = read_head(session)
    at = session.execute(select(AuditEvent.occurred_at).where(AuditEvent.seq == seq))
    return Checkpoint(seq, hash_, at.scalar_one_or_none())


def _walk_stored(engine: Engine, last: int) -> VerifyReport:
    """Walk the events `1..last` as stored text; every one of them must be there."""

    def events() -> Iterator[dict[str, Any]]:
        for rows in reading.windows(engine, first=1, last=last, size=VERIFY_BATCH):
            yield from reading.walk(rows)

    with engine.connect() as conn:  # only for events whose stored text does not hash
        report = verify_events(events(), authentic=lambda e: reading.is_authentic(conn, e))
    walked = report.head_seq or 0
    if report.ok and walked != last:
        # Events were cut from the end: the chain is intact but shorter than recorded.
        return report.fail(walked + 1, f"the chain ends at seq {walked}, the head says {last}")
    return report


def verify_chain(session: Session, against: tuple[int, str] | None = None) -> VerifyReport:
    """Recompute the whole chain and check that it ends exactly at the recorded head.

    The head is read first and only events up to it are walked, so events
    appended while a long verification runs are not mistaken for tampering.
    `against` is a checkpoint `(seq, hash)` kept outside the database: the
    event at that seq must still carry that hash, which catches a chain
    rewritten from some point on with every hash recomputed.
    """
    head_seq, head_hash = read_head(session)
    if against is not None and against[0] > head_seq:
        report = VerifyReport(True, 0, None, None, None)
        return report.fail(head_seq + 1, f"the checkpoint at seq {against[0]} is past the head")
    report = _walk_stored(session.get_bind().engine, head_seq)
    if not report.ok:
        return report
    if (report.head_hash or GENESIS_HASH) != head_hash:
        return report.fail(head_seq, "the last event's hash differs from the recorded head")
    first, last = session.execute(select(func.min(_EVENTS.c.seq), func.max(_EVENTS.c.seq))).one()
    current, _ = read_head(session)
    if (last or 0) > current:
        return report.fail(current + 1, f"events after the recorded head (seq {current})")
    if (first or 1) < 1:
        return report.fail(first, f"an event with seq {first}, before the first")
    if against is not None:
        kept = select(AuditEvent.hash).where(AuditEvent.seq == against[0])
        actual = session.execute(kept).scalar_one() if against[0] else GENESIS_HASH
        if actual != against[1]:
            return report.fail(max(against[0], 1), f"seq {against[0]} differs from the checkpoint")
    return report


@orm_event.listens_for(AuditEvent, "before_update")
@orm_event.listens_for(AuditEvent, "before_delete")
def _refuse_edits(_mapper: Any, _connection: Any, target: AuditEvent) -> None:
    # The chain is append-only; on PostgreSQL a trigger refuses it too (migration 0002).
    raise RuntimeError(f"audit event {target.seq} is write-once")
