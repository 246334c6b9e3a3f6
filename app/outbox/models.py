"""Outbox rows: "thread N changed", written in the transaction that changed it."""

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, UTCDateTime, utcnow


class OutboxEntry(Base):
    """One change to one thread, waiting to be (or already) sent to the search index.

    A row is pending while `done_at` is null. A worker claims it by setting
    `claimed_by` and a lease (`claimed_until`); a row whose lease ran out belongs
    to nobody again, so a crashed worker's rows are picked up by the next one.
    Rows name the thread, not the change: the worker rebuilds the whole document
    from the database when it sends, so order and duplicates do not matter.
    """

    __tablename__ = "search_outbox"
    __table_args__ = (
        Index("ix_search_outbox_done_at_available_at", "done_at", "available_at"),
        Index("ix_search_outbox_question_id_done_at", "question_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No foreign key: the row must outlive nothing and lock nothing on the question.
    question_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Not before this time (retries back off exponentially).
    available_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The Meilisearch task that carried the row's document, and how the last attempt ended.
    task_uid: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
