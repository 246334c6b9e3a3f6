"""Reputation: a ledger of points and per-topic totals for the leaderboard."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class ReputationEvent(Base):
    """Points earned: `answer.endorsed` +10, `answer.corrected` +2, `review.done` +1."""

    __tablename__ = "reputation_events"
    __table_args__ = (
        Index("ix_reputation_events_created_at_user_id", "created_at", "user_id"),
        # Whether an answer's author was already paid for an outcome (once per answer).
        Index("ix_reputation_events_answer_id_reason", "answer_id", "reason"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    reason: Mapped[str] = mapped_column(String(32))
    points: Mapped[int] = mapped_column(Integer)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TopicReputation(Base):
    __tablename__ = "topic_reputation"
    __table_args__ = (Index("ix_topic_reputation_topic_id_points", "topic_id", "points"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"), primary_key=True)
    points: Mapped[int] = mapped_column(Integer, default=0)
