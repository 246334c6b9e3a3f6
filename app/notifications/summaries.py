"""The emails that gather: each person's daily summary, everyone's weekly digest.

- **Daily summary**: the fan-out marks a notification `email_due = "daily"` when its
  recipient wants that kind in a summary. Once a day, at `summary_hour_utc`, the email
  loop gathers each person's marked notifications from before that hour into one
  delivery and clears the marks, in one transaction (so a notification is in exactly
  one summary; the delivery's key is the person and the first notification).
- **Weekly digest**: on `digest_weekday` at the same hour, the answers the experts
  endorsed in the seven days before, as one delivery per active person with an address
  who has not turned the digest off. Its key is the person and the week, so planning
  it twice (two workers, a restart) plans it once. A digest is planned only in the day
  after its hour: a server started later does not send last week's news.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.answers.models import Answer, ValidationState
from app.config import Settings
from app.db import Database, session_scope, unclaimed, utcnow
from app.notifications import deliveries, describe
from app.notifications.models import Channel, Frequency, Notification, NotificationKind
from app.notifications.settings import email_frequencies
from app.notifications.unsubscribe import SUMMARY
from app.questions.models import Question
from app.topics.models import Topic
from app.users.models import User

DIGEST_ITEMS = 20


def last_summary_time(settings: Settings, now: datetime) -> datetime:
    """The latest summary hour at or before `now`."""
    today = now.replace(hour=settings.summary_hour_utc, minute=0, second=0, microsecond=0)
    return today if today <= now else today - timedelta(days=1)


def last_digest_time(settings: Settings, now: datetime) -> datetime:
    """The latest digest moment (weekday and hour) at or before `now`."""
    at = last_summary_time(settings, now)
    return at - timedelta(days=(at.weekday() - settings.digest_weekday) % 7)


def plan_daily(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Gather what waits for a daily summary into one delivery per person; returns how
    many summaries were planned."""
    cutoff = last_summary_time(settings, now or utcnow())
    waiting = (Notification.email_due == Frequency.daily, Notification.created_at < cutoff)
    with db.session(write=False) as session:
        if session.execute(select(Notification.id).where(*waiting).limit(1)).first() is None:
            return 0
    with session_scope(db) as session:
        query = (
            select(Notification.id, Notification.user_id).where(*waiting).order_by(Notification.id)
        )
        by_user: dict[int, list[int]] = {}
        for notification_id, user_id in session.execute(unclaimed(session, query)):
            by_user.setdefault(user_id, []).append(notification_id)
        deliveries.add(
            session,
            [
                {
                    "key": f"summary:{user_id}:{ids[0]}",
                    "channel": Channel.email,
                    "kind": SUMMARY,
                    "user_id": user_id,
                    "notification_ids": ids,
                }
                for user_id, ids in by_user.items()
            ],
        )
        session.execute(
            update(Notification)
            .where(Notification.id.in_([i for ids in by_user.values() for i in ids]))
            .values(email_due=None)
        )
    return len(by_user)


def _validated(session: Session, settings: Settings, start: datetime, end: datetime) -> Any:
    """The digest's body: answers endorsed in [start, end), newest first."""
    base = (
        select(Answer.id, Answer.question_id, Answer.validated_at, Question.title, Topic.name)
        .join(Question, Question.id == Answer.question_id)
        .join(Topic, Topic.id == Answer.topic_id)
        .where(
            Answer.state == ValidationState.endorsed,
            Answer.validated_at >= start,
            Answer.validated_at < end,
            Answer.deleted_at.is_(None),
            Question.deleted_at.is_(None),
        )
    )
    total = session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    rows = session.execute(base.order_by(Answer.validated_at.desc()).limit(DIGEST_ITEMS))
    items = [
        {
            "headline": f"Endorsed in {topic}: {title}",
            "url": describe.public(settings, describe.thread_path(question_id, answer_id)),
            "topic": topic,
            "at": validated_at.strftime("%d %b %Y") if validated_at else "",
        }
        for answer_id, question_id, validated_at, title, topic in rows
    ]
    return items, int(total) - len(items)


def plan_digest(db: Database, settings: Settings, now: datetime | None = None) -> int:
    """Plan this week's digest for everyone who gets it, once; returns how many were
    planned (0 outside the day after the digest's hour, or with nothing validated)."""
    now = now or utcnow()
    end = last_digest_time(settings, now)
    if not settings.email_on or now - end >= timedelta(days=1):
        return 0
    key = end.date().isoformat()
    with session_scope(db) as session:
        items, more = _validated(session, settings, end - timedelta(days=7), end)
        if not items:
            return 0
        people = set(
            session.execute(
                select(User.id).where(User.active.is_(True), *deliveries.HAS_ADDRESS)
            ).scalars()
        )
        wanted = email_frequencies(session, people, [NotificationKind.digest])
        rows = [
            {
                "key": f"digest:{user_id}:{key}",
                "channel": Channel.email,
                "kind": str(NotificationKind.digest),
                "user_id": user_id,
                "payload": {"items": items, "more": more, "week_ending": key},
            }
            for user_id in sorted(people)
            if wanted[(user_id, str(NotificationKind.digest))] == Frequency.weekly
        ]
        return deliveries.add(session, rows)


class Planner:
    """The email loop's step before each batch: daily summaries every round (cheap when
    none is due), the digest once per week per process."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self._digest_done: datetime | None = None

    def __call__(self) -> None:
        now = utcnow()
        plan_daily(self.db, self.settings, now)
        week = last_digest_time(self.settings, now)
        if self._digest_done != week:
            plan_digest(self.db, self.settings, now)
            self._digest_done = week
