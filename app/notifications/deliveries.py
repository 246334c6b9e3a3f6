"""Deliveries: the emails and webhook calls that carry notifications out of Vouch.

The fan-out (or the daily summary, or the digest) writes a `notification_deliveries`
row per message in its own transaction, under a unique key, so planning twice adds
nothing. A worker claims a batch of due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL,
then a lease: two workers never hold the same row), sends them, and records each
outcome in a transaction of its own as soon as it is known: sent; failed, to be tried
again after an exponential backoff; dead after `delivery_max_attempts` failures or a
refusal for good (admins see the dead letters and can send them again); or dropped, when
there is nobody left to tell (recipient deactivated, address removed, thread deleted).
Every try is an attempt row.

Once only: a row is sent by the one worker that holds its claim, and marked sent right
after. The one window left is a worker killed between the mail server's "accepted" and
that mark: the row goes out again when the lease runs out, with the same `Message-ID`
(and a webhook call with the same `X-Vouch-Delivery` id), so the receiver can see it is
the same message.
"""

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.background import Backlog, backoff
from app.config import Settings
from app.db import Database, dialect_insert, session_scope, unclaimed, utcnow
from app.errors import Conflict, NotFound
from app.notifications.models import (
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Frequency,
)
from app.notifications.settings import email_frequencies
from app.observability.metrics import DELIVERIES
from app.users.models import User

log = logging.getLogger("vouch.notifications")


# -- planning ---------------------------------------------------------------------------

# A person email can reach.
HAS_ADDRESS = (User.email.is_not(None), User.email != "")


def email_choices(
    session: Session, settings: Settings, user_ids: set[int], kinds: set[str]
) -> dict[tuple[int, str], Frequency]:
    """How each of these people hears of each kind by email; nothing for those without
    an address, and nothing at all while email is off."""
    if not settings.email_on or not user_ids:
        return {}
    reachable = set(
        session.execute(select(User.id).where(User.id.in_(user_ids), *HAS_ADDRESS)).scalars()
    )
    return email_frequencies(session, reachable, kinds) if reachable else {}


def add(session: Session, rows: list[dict[str, Any]]) -> int:
    """Plan these deliveries; a key already planned is left as it is. Returns how many
    were new."""
    if not rows:
        return 0
    now = utcnow()
    added = session.execute(
        dialect_insert(session, Delivery)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Delivery.id),
        [
            {
                "status": DeliveryStatus.pending,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "notification_ids": [],
                "payload": {},
                "user_id": None,
                "webhook_id": None,
            }
            | row
            for row in rows
        ],
    )
    return len(added.all())


def add_emails(session: Session, notifications: list[tuple[int, int, str]]) -> None:
    """One email per (notification, recipient, kind) to be sent at once."""
    add(
        session,
        [
            {
                "key": f"email:{n}",
                "channel": Channel.email,
                "kind": kind,
                "user_id": user_id,
                "notification_ids": [n],
            }
            for n, user_id, kind in notifications
        ],
    )


# -- sending ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """How one try went. `permanent`: refused for good, no point in trying again;
    `dropped`: nobody to send it to any more."""

    ok: bool
    error: str | None = None
    permanent: bool = False
    dropped: bool = False
    message_id: str | None = None


def _due(channel: str, now: datetime) -> Any:
    return (
        Delivery.channel == channel,
        Delivery.status == DeliveryStatus.pending,
        Delivery.next_attempt_at <= now,
        or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
    )


def backlog_by_channel(session: Session) -> dict[str, Backlog]:
    """Deliveries waiting to be sent (retries included; dead ones are counted apart), by
    channel, with the oldest one's creation time."""
    found = {
        str(channel): Backlog(int(rows), oldest)
        for channel, rows, oldest in session.execute(
            select(Delivery.channel, func.count(), func.min(Delivery.created_at))
            .where(Delivery.status == DeliveryStatus.pending)
            .group_by(Delivery.channel)
        )
    }
    return {str(c): found.get(str(c), Backlog(0, None)) for c in (Channel.email, "webhook")}


def backlog(session: Session) -> dict[str, int]:
    """Deliveries waiting to be sent, by channel (dead ones are counted apart)."""
    return {channel: b.rows for channel, b in backlog_by_channel(session).items()}


def dead_count(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).where(Delivery.status == DeliveryStatus.dead)
        ).scalar_one()
    )


def claim(db: Database, settings: Settings, channel: str, worker: str) -> list[int]:
    """Take up to a batch of due deliveries of `channel` for `worker` (a lease)."""
    now = utcnow()
    with db.session(write=False) as session:
        if session.execute(select(Delivery.id).where(*_due(channel, now)).limit(1)).first() is None:
            return []  # an idle worker must not take SQLite's write lock every poll
    with session_scope(db) as session:
        query = (
            select(Delivery.id)
            .where(*_due(channel, now))
            .order_by(Delivery.next_attempt_at, Delivery.id)
            .limit(settings.delivery_batch_size)
        )
        ids = list(session.execute(unclaimed(session, query)).scalars())
        if ids:
            session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids))
                .values(
                    claimed_by=worker,
                    claimed_until=now + timedelta(seconds=settings.delivery_lease_seconds),
                )
            )
    return ids


def _attempt(delivery_id: int, at: datetime, outcome: Outcome, duration_ms: int) -> DeliveryAttempt:
    return DeliveryAttempt(
        delivery_id=delivery_id,
        attempted_at=at,
        ok=outcome.ok,
        error=outcome.error,
        duration_ms=duration_ms,
    )


def record(
    db: Database,
    settings: Settings,
    delivery_id: int,
    worker: str,
    outcome: Outcome,
    duration_ms: int,
) -> None:
    """Write how a try went, at once and on its own: the next try (or none) follows."""
    now = utcnow()
    with session_scope(db) as session:
        row = session.execute(
            select(Delivery).where(Delivery.id == delivery_id).with_for_update()
        ).scalar_one()
        if row.status != DeliveryStatus.pending:
            # Another worker took it when this one's lease ran out, and finished it:
            # its try is kept, its verdict stands.
            log.warning("delivery %s: finished by another worker meanwhile", delivery_id)
            session.add(_attempt(row.id, now, outcome, duration_ms))
            return
        if row.claimed_by != worker:
            log.warning("delivery %s: claim lost before its outcome was recorded", delivery_id)
        row.claimed_by, row.claimed_until = None, None
        if outcome.dropped:
            row.status, row.last_error = DeliveryStatus.dropped, outcome.error
        else:
            row.attempts += 1
            session.add(_attempt(row.id, now, outcome, duration_ms))
            if outcome.ok:
                row.status, row.sent_at, row.last_error = DeliveryStatus.sent, now, None
                row.message_id = outcome.message_id or row.message_id
            else:
                row.last_error = outcome.error
                if outcome.permanent or row.attempts >= settings.delivery_max_attempts:
                    row.status = DeliveryStatus.dead
                else:
                    wait = backoff(
                        settings.delivery_backoff_seconds,
                        row.attempts,
                        settings.delivery_max_backoff_seconds,
                    )
                    row.next_attempt_at = now + timedelta(seconds=wait)
        channel = str(row.channel)
        counted = "failed" if row.status == DeliveryStatus.pending else str(row.status)
    DELIVERIES.labels(channel, counted).inc()  # once it is committed


# A channel's sender: given the claimed rows, yields (delivery id, outcome, duration)
# as each is done, so each is recorded at once.
Sender = Callable[[Database, Settings, list[int]], Iterator[tuple[int, Outcome, int]]]


def deliver_batch(db: Database, settings: Settings, channel: str, send: Sender) -> int | None:
    """Claim and send one batch; the number sent, None when nothing was due."""
    worker = uuid.uuid4().hex
    ids = claim(db, settings, channel, worker)
    if not ids:
        return None
    sent = 0
    for delivery_id, outcome, duration_ms in send(db, settings, ids):
        record(db, settings, delivery_id, worker, outcome, duration_ms)
        sent += outcome.ok
    return sent


def drain(
    db: Database, settings: Settings, channel: str, send: Sender, max_batches: int = 100
) -> int:
    """Send until nothing is due (tests and the benchmark call it); returns how many
    were sent. Rows that failed wait for their backoff, so this ends."""
    sent = 0
    for _ in range(max_batches):
        done = deliver_batch(db, settings, channel, send)
        if done is None:
            break
        sent += done
    return sent


def run(
    db: Database,
    settings: Settings,
    channel: str,
    send: Sender,
    stop: threading.Event,
    before: Callable[[], None] | None = None,
) -> None:
    """Send `channel`'s deliveries until `stop` is set; `before` runs first each round
    (the email loop plans the summaries there)."""
    while not stop.is_set():
        try:
            if before is not None:
                before()
            done = deliver_batch(db, settings, channel, send)
        except Exception:
            log.exception("%s deliveries failed", channel)
            stop.wait(1.0)
            continue
        if done is None:
            stop.wait(max(settings.outbox_poll_seconds, 0.5))


def listing(
    session: Session, status: DeliveryStatus, before_id: int | None, limit: int
) -> list[tuple[Delivery, str | None]]:
    """Deliveries in `status`, newest first, with the username an email is for."""
    query = (
        select(Delivery, User.username)
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.status == status)
        .order_by(Delivery.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        query = query.where(Delivery.id < before_id)
    return [(d, u) for d, u in session.execute(query)]


def retry(session: Session, ctx: AuditContext, delivery_id: int) -> tuple[Delivery, str | None]:
    """Send a dead letter again, from a fresh count of attempts (audited). Only a dead
    one: a 409 for one pending or sent, a 404 for none."""
    found = session.execute(
        select(Delivery, User.username)
        .outerjoin(User, User.id == Delivery.user_id)
        .where(Delivery.id == delivery_id)
        .with_for_update(of=Delivery)
    ).first()
    if found is None:
        raise NotFound(f"No delivery {delivery_id}.")
    delivery, username = found
    if delivery.status != DeliveryStatus.dead:
        raise Conflict(f"Delivery {delivery_id} is {delivery.status}: only a dead one is retried.")
    delivery.status, delivery.attempts = DeliveryStatus.pending, 0
    delivery.next_attempt_at, delivery.claimed_by, delivery.claimed_until = utcnow(), None, None
    audit.record(
        session,
        ctx,
        "notification_delivery.retry",
        target_type="notification_delivery",
        target_id=delivery.id,
        payload={"channel": delivery.channel, "kind": delivery.kind, "error": delivery.last_error},
    )
    return delivery, username
