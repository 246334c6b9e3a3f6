"""Answers with their validation state, revisions and votes."""

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UTCDateTime, utcnow
from app.users.models import User

if TYPE_CHECKING:
    from app.questions.models import Question


class ValidationState(StrEnum):
    unreviewed = "unreviewed"
    awaiting_endorsement = "awaiting_endorsement"
    endorsed = "endorsed"
    corrected = "corrected"
    rejected = "rejected"
    stale = "stale"


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (Index("ix_answers_topic_id_reviewed_at", "topic_id", "reviewed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    # Copied from the question (questions never change topic): topic-wide counts and the
    # review queue filter answers without a join.
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(32), default=ValidationState.unreviewed, index=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    # Validation bookkeeping, maintained by app/reviews/.
    correction: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    last_endorsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stale_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    open_flags: Mapped[int] = mapped_column(Integer, default=0)

    question: Mapped["Question"] = relationship(lazy="raise")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")


class AnswerRevision(Base):
    """One version of an answer's body; number 1 is the original."""

    __tablename__ = "answer_revisions"
    __table_args__ = (UniqueConstraint("answer_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editor: Mapped[User] = relationship(lazy="joined")


class Vote(Base):
    __tablename__ = "votes"

    answer_id: Mapped[int] = mapped_column(ForeignKey("answers.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
