"""The fan-out: outbox rows of news into each recipient's notifications.

One transaction takes a batch of pending rows, writes their recipients' notifications
and marks the rows done, so a worker that dies mid-batch leaves the rows pending and
nothing half written. On PostgreSQL the rows are taken `FOR UPDATE SKIP LOCKED`: two
workers never take the same row. On SQLite the write transaction itself serialises
workers. Besides, (row, recipient) is unique and inserted "on conflict do nothing", so
no person hears of one piece of news twice, whatever happens.

Recipients are decided here, not in the request: the experts of the topic as they are
now (a user who lost the role or the topic hears nothing more of it), active users
only, never the person who caused the news, and nobody for a thread deleted meanwhile.
"""

import logging
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.answers.models import Answer, ValidationState
from app.background import Backlog
from app.config import Settings
from app.db import Database, dialect_insert, session_scope, unclaimed, utcnow
from app.notifications import deliveries, webhooks
from app.notifications.models import (
    EXPERT_KINDS,
    Frequency,
    Notification,
    NotificationKind,
    NotificationOutboxEntry,
)
from app.notifications.settings import muted_in_app
from app.questions.models import Question
from app.users.models import Role, User, user_expert_topics

log = logging.getLogger("vouch.notifications")


def _due(now: datetime) -> Any:
    return (
        NotificationOutboxEntry.done_at.is_(None),
        NotificationOutboxEntry.available_at <= now,
    )


def backlog_summary(session: Session) -> Backlog:
    """The pieces of news waiting for the fan-out (not those scheduled for later), and
    since when the oldest has been due."""
    rows, oldest = session.execute(
        select(func.count(), func.min(NotificationOutboxEntry.available_at))
        .select_from(NotificationOutboxEntry)
        .where(*_due(utcnow()))
    ).one()
    return Backlog(int(rows), oldest)


def backlog(session: Session) -> int:
    """How many pieces of news wait for the fan-out (not those scheduled for later)."""
    return backlog_summary(session).rows


def _no_longer_true(session: Session, entries: list[NotificationOutboxEntry]) -> set[int]:
    """Scheduled news that did not come true: an endorsement renewed, corrected or
    rejected since (its answer's stale time moved), or its answer deleted."""
    stale = [e for e in entries if e.kind == NotificationKind.endorsement_stale]
    if not stale:
        return set()
    still: dict[int | None, datetime | None] = {
        answer_id: stale_at
        for answer_id, stale_at in session.execute(
            select(Answer.id, Answer.stale_at).where(
                Answer.id.in_({e.answer_id for e in stale}),
                Answer.state == ValidationState.endorsed,
                Answer.deleted_at.is_(None),
            )
        )
    }
    return {
        e.id
        for e in stale
        if still.get(e.answer_id) != datetime.fromisoformat(str(e.payload.get("stale_at")))
    }


def _experts(session: Session, topic_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active experts of each topic: topic id → user ids."""
    found: dict[int, list[int]] = {}
    rows = session.execute(
        select(user_expert_topics.c.topic_id, User.id, User.roles)
        .join(User, User.id == user_expert_topics.c.user_id)
        .where(user_expert_topics.c.topic_id.in_(sorted(set(topic_ids))), User.active.is_(True))
        .order_by(User.id)
    )
    for topic_id, user_id, roles in rows:
        if Role.expert in roles:
            found.setdefault(topic_id, []).append(user_id)
    return found


def _insert_ignoring_duplicates(
    session: Session, rows: list[dict[str, Any]]
) -> list[tuple[int, int, str]]:
    """Inserts the rows not there yet; returns (id, user, kind) of those it inserted."""
    added = session.execute(
        dialect_insert(session, Notification)
        .on_conflict_do_nothing()
        .returning(Notification.id, Notification.user_id, Notification.kind),
        rows,
    )
    return [(int(i), int(u), str(k)) for i, u, k in added]


def fan_out_batch(db: Database, settings: Settings) -> int | None:
    """Fan out up to `limit` pending rows; returns the notifications written, None when
    there was nothing to do."""
    with db.session(write=False) as session:
        pending = select(NotificationOutboxEntry.id).where(*_due(utcnow()))
        if session.execute(pending.limit(1)).first() is None:
            return None  # an idle worker must not take SQLite's write lock every poll
    with session_scope(db) as session:
        query = (
            select(NotificationOutboxEntry)
            .where(*_due(utcnow()))
            .order_by(NotificationOutboxEntry.id)
            .limit(settings.notification_batch_size)
        )
        entries = list(session.execute(unclaimed(session, query)).scalars())
        if not entries:
            return None
        experts = _experts(session, (e.topic_id for e in entries if e.kind in EXPERT_KINDS))
        people = set(
            session.execute(
                select(User.id).where(
                    User.id.in_({e.recipient_id for e in entries if e.recipient_id}),
                    User.active.is_(True),
                )
            ).scalars()
        )
        gone = set(
            session.execute(
                select(Question.id).where(
                    Question.id.in_({e.question_id for e in entries if e.question_id}),
                    Question.deleted_at.is_not(None),
                )
            ).scalars()
        )
        # Who hears of each piece of news; then which of them turned its kind off here.
        untrue = _no_longer_true(session, entries)
        addressed: list[tuple[NotificationOutboxEntry, list[int]]] = []
        dropped = set()
        for entry in entries:
            if entry.question_id in gone or entry.id in untrue:
                dropped.add(entry.id)
                recipients: list[int] = []
            elif entry.kind in EXPERT_KINDS:
                recipients = experts.get(entry.topic_id, [])
            else:
                recipients = [entry.recipient_id] if entry.recipient_id in people else []
            addressed.append((entry, [u for u in recipients if u != entry.actor_id]))
        everyone = {u for _, users in addressed for u in users}
        kinds = {e.kind for e in entries}
        muted = muted_in_app(session, everyone, kinds)
        by_email = deliveries.email_choices(session, settings, everyone, kinds)
        rows = [
            {
                "source_id": entry.id,
                "user_id": user_id,
                "kind": entry.kind,
                "topic_id": entry.topic_id,
                "question_id": entry.question_id,
                "answer_id": entry.answer_id,
                "actor_id": entry.actor_id,
                "payload": entry.payload,
                "created_at": entry.created_at,
                "in_app": (user_id, entry.kind) not in muted,
                "email_due": (
                    Frequency.daily
                    if by_email.get((user_id, entry.kind)) == Frequency.daily
                    else None
                ),
            }
            for entry, recipients in addressed
            for user_id in recipients
        ]
        if rows:
            added = _insert_ignoring_duplicates(session, rows)
            deliveries.add_emails(
                session,
                [(n, u, k) for n, u, k in added if by_email.get((u, k)) == Frequency.immediately],
            )
        webhooks.add_calls(session, settings, [e for e, _ in addressed if e.id not in dropped])
        session.execute(
            update(NotificationOutboxEntry)
            .where(NotificationOutboxEntry.id.in_([e.id for e in entries]))
            .values(done_at=utcnow(), attempts=NotificationOutboxEntry.attempts + 1)
        )
    return len(rows)


def drain(db: Database, settings: Settings, max_batches: int = 1_000_000) -> int:
    """Fan out until nothing is pending; returns the notifications written."""
    written = 0
    for _ in range(max_batches):
        done = fan_out_batch(db, settings)
        if done is None:
            break
        written += done
    return written


def run(db: Database, settings: Settings, stop: threading.Event) -> None:
    """Fan out until `stop` is set."""
    while not stop.is_set():
        try:
            done = fan_out_batch(db, settings)
        except Exception:
            # The database may be briefly away; the loop must outlive it.
            log.exception("notification fan-out failed")
            stop.wait(1.0)
            continue
        if done is None:
            stop.wait(settings.outbox_poll_seconds)
