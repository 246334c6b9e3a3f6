"""Learning-need signals: threads and topics that keep drawing wrong answers."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow


class SignalKind(StrEnum):
    thread = "thread"
    topic = "topic"


class SignalStatus(StrEnum):
    open = "open"
    acknowledged = "acknowledged"
    addressed = "addressed"


class LearningNeed(Base):
    """At most one signal per thread and one per topic; it reopens rather than duplicates."""

    __tablename__ = "learning_needs"
    __table_args__ = (
        Index(
            "ix_learning_needs_kind_topic_question", "kind", "topic_id", "question_id", unique=True
        ),
        Index("ix_learning_needs_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), index=True)
    # For a topic signal this is 0, not NULL, so the unique index also covers topic signals.
    question_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=SignalStatus.open)
    wrong_count: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    history: Mapped[list["LearningNeedEvent"]] = relationship(
        lazy="raise", order_by="LearningNeedEvent.id"
    )


class LearningNeedEvent(Base):
    """One step in a signal's life: opened, acknowledged, addressed, reopened."""

    __tablename__ = "learning_need_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learning_need_id: Mapped[int] = mapped_column(ForeignKey("learning_needs.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    wrong_count: Mapped[int] = mapped_column(Integer)
    reviewed_count: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
