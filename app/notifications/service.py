"""Notifications: news written with the change that causes it, and a person's list.

`notify` is what the services call, inside their transaction: it adds one outbox row,
whatever the number of people who will hear of it. `fanout` (run by the worker) turns
those rows into each recipient's notifications.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.notifications.models import Notification, NotificationKind, NotificationOutboxEntry
from app.questions.models import Question
from app.topics.models import Topic
from app.users.models import User

_ADD = insert(NotificationOutboxEntry)


def notify(
    session: Session,
    kind: NotificationKind,
    *,
    topic_id: int,
    question_id: int | None,
    answer_id: int | None = None,
    actor_id: int | None = None,
    recipient_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> None:
    """Record news for the fan-out, in the caller's transaction (one row)."""
    notify_many(
        session,
        [News(kind, topic_id, question_id, answer_id, actor_id, recipient_id, payload or {})],
    )


@dataclass(frozen=True)
class News:
    """One outbox row of `notify_many`: `notify`'s arguments."""

    kind: NotificationKind
    topic_id: int
    question_id: int | None
    answer_id: int | None = None
    actor_id: int | None = None
    recipient_id: int | None = None
    payload: dict[str, Any] | None = None
    not_before: datetime | None = None  # when it becomes true (by default, now)


def notify_many(session: Session, news: list[News]) -> None:
    """Record many pieces of news in one statement."""
    # A person is never told of their own doing: no row at all for it.
    now = utcnow()
    rows = [
        {
            "kind": str(n.kind),
            "topic_id": n.topic_id,
            "question_id": n.question_id,
            "answer_id": n.answer_id,
            "actor_id": n.actor_id,
            "recipient_id": n.recipient_id,
            "payload": n.payload or {},
            "created_at": now,
            "available_at": n.not_before or now,
        }
        for n in news
        if n.recipient_id is None or n.recipient_id != n.actor_id
    ]
    if rows:
        session.execute(_ADD, rows)


# -- a person's notifications --------------------------------------------------------

# Shown: not turned off for the web interface, and not of a deleted thread (which may
# not be read any more: its news disappears with it).
_SHOWN = and_(
    Notification.in_app.is_(True),
    or_(Notification.question_id.is_(None), Question.deleted_at.is_(None)),
)


@dataclass(frozen=True)
class Listed:
    """A notification as its recipient sees it: with its thread's title."""

    notification: Notification
    question_title: str | None  # None for news about a whole topic
    topic_slug: str
    topic_name: str
    actor_name: str | None


def _listing(user: User) -> Any:
    return (
        select(Notification, Question.title, Topic.slug, Topic.name, User.display_name)
        .join(Topic, Topic.id == Notification.topic_id)
        .outerjoin(Question, Question.id == Notification.question_id)
        .outerjoin(User, User.id == Notification.actor_id)
        .where(Notification.user_id == user.id, _SHOWN)
    )


def list_notifications(
    session: Session, user: User, *, unread_only: bool, before_id: int | None, limit: int
) -> list[Listed]:
    """The user's notifications, newest first, of threads that are still there."""
    query = _listing(user).order_by(Notification.id.desc()).limit(limit)
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    if before_id is not None:
        query = query.where(Notification.id < before_id)
    return [Listed(*row) for row in session.execute(query)]


def get_notification(session: Session, user: User, notification_id: int) -> Listed | None:
    """One of the user's notifications; None for anyone else's, as for none at all."""
    row = session.execute(_listing(user).where(Notification.id == notification_id)).first()
    return None if row is None else Listed(*row)


def unread_of(user_id: Any) -> Any:
    """The number of unread notifications of `user_id` (a value, or a column of an
    enclosing query: the web pages count them within their token check)."""
    return (
        select(func.count())
        .select_from(Notification)
        .outerjoin(Question, Question.id == Notification.question_id)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None), _SHOWN)
        .scalar_subquery()
    )


def unread_count(session: Session, user: User) -> int:
    return int(session.execute(select(unread_of(user.id))).scalar_one())


def mark_read(
    session: Session, user: User, ids: list[int] | None, now: datetime | None = None
) -> int:
    """Mark the user's notifications `ids` (all of them when None) read; returns how
    many were unread. Other people's ids are ignored, as if they did not exist."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    result = session.execute(query.values(read_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def for_email(session: Session, ids: list[int]) -> list[Listed]:
    """These notifications, oldest first, less those of threads deleted since: what an
    email may still tell of (whatever the web interface's setting)."""
    found = session.execute(
        select(Notification, Question.title, Topic.slug, Topic.name, User.display_name)
        .join(Topic, Topic.id == Notification.topic_id)
        .outerjoin(Question, Question.id == Notification.question_id)
        .outerjoin(User, User.id == Notification.actor_id)
        .where(
            Notification.id.in_(ids),
            or_(Notification.question_id.is_(None), Question.deleted_at.is_(None)),
        )
        .order_by(Notification.id)
    )
    return [Listed(*row) for row in found]
