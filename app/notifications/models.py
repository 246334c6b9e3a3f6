"""Notifications: what happened, written with the change; who hears of it, decided later.

A change writes one `notification_outbox` row per kind of news in its own transaction
(nothing is sent from the request, and a question in a topic of 500 experts still writes
one row). The fan-out worker claims outbox rows, works out their recipients at that
moment (active users; experts of the topic as they are then) and writes one
`notifications` row per recipient: the person's copy, read in the web interface and the
API. The pair (outbox row, recipient) is unique, so a row fanned out twice (a worker that
died after writing, a doubly claimed row) never reaches a person twice.
"""

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class NotificationKind(StrEnum):
    # To the experts of the topic:
    question_new = "question.new"
    answer_new = "answer.new"
    flag_new = "flag.new"
    learning_need = "learning_need.open"  # opened or reopened
    endorsement_stale = "endorsement.stale"  # an endorsement's review interval ran out
    # To one person:
    answer_reviewed = "answer.reviewed"  # the answer's author hears the verdict
    question_answered = "question.answered"  # the asker hears of a new answer
    question_commented = "question.commented"  # the asker hears of a new comment
    # Not news of one change: the weekly email of what was newly validated.
    digest = "digest"


class Channel(StrEnum):
    web = "web"  # the list in the web interface (and GET /notifications)
    email = "email"


class Frequency(StrEnum):
    immediately = "immediately"
    daily = "daily"  # gathered into one email a day
    weekly = "weekly"  # the digest's way
    never = "never"


EXPERT_KINDS = frozenset(
    {
        NotificationKind.question_new,
        NotificationKind.answer_new,
        NotificationKind.flag_new,
        NotificationKind.learning_need,
        NotificationKind.endorsement_stale,
    }
)


class NotificationOutboxEntry(Base):
    """One piece of news waiting to be fanned out (pending while `done_at` is null).

    The fan-out takes, fans out and marks done a batch in one transaction (see
    `app.notifications.fanout`), so a row needs no lease: a worker that dies leaves it
    pending. `attempts` counts the fan-outs that took it."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        Index("ix_notification_outbox_done_at_available_at", "done_at", "available_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    topic_id: Mapped[int] = mapped_column(Integer)
    # None for news about a whole topic (its learning-need signal).
    question_id: Mapped[int | None] = mapped_column(Integer)
    answer_id: Mapped[int | None] = mapped_column(Integer)
    # Who caused it (never notified of their own doing), and the one person it is for.
    actor_id: Mapped[int | None] = mapped_column(Integer)
    recipient_id: Mapped[int | None] = mapped_column(Integer)
    # What the notification says beside its thread: a verdict, a rationale, a correction.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not fanned out before this time: news written ahead of when it is true (an
    # endorsement going stale), as the search outbox schedules a re-index.
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """One person's copy of one piece of news."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("source_id", "user_id"),
        Index("ix_notifications_user_id_id", "user_id", "id"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
        Index("ix_notifications_email_due", "email_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The outbox row it came from (no foreign key: done outbox rows are pruned).
    source_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"))
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False when its recipient turned this kind off in the web interface: the row stays,
    # for the other channels, but the list does not show it.
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    # "daily" while it waits for its recipient's daily summary email.
    email_due: Mapped[str | None] = mapped_column(String(16))


class NotificationSetting(Base):
    """A person's choice for one kind of news on one channel; without a row, the
    default of `app.notifications.settings` applies."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    frequency: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryStatus(StrEnum):
    pending = "pending"  # to be sent (again) at `next_attempt_at`
    sent = "sent"
    dead = "dead"  # failed `delivery_max_attempts` times, or refused for good: admins see it
    dropped = "dropped"  # no longer for anyone: its recipient deactivated, its thread gone


class Webhook(Base):
    """An incoming-webhook URL (Slack or Teams) that hears a topic's news."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    format: Mapped[str] = mapped_column(String(16))  # slack | teams
    # The HMAC-SHA256 key of its signatures: shown once, when it is registered.
    secret: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One message to send: an email (one notification, a daily summary, a digest) or a
    webhook call. `key` makes it once only: a fan-out or summary run twice finds its
    rows there and adds none."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_due", "channel", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    # What it carries: a notification kind, "summary" or "digest".
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    webhook_id: Mapped[int | None] = mapped_column(ForeignKey("webhooks.id"))
    # The recipient's notifications it tells of (an email), or the body (a webhook).
    notification_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.pending)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker's claim: nobody else takes it until `claimed_until` (a dead worker's
    # claim runs out and another worker takes it).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryAttempt(Base):
    """One try at sending a delivery, and how it went."""

    __tablename__ = "notification_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("notification_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
