"""Writing to the outbox from the services that change threads."""

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.db import utcnow
from app.outbox.models import OutboxEntry


def enqueue_thread(session: Session, question_id: int, not_before: datetime | None = None) -> None:
    """Record that thread `question_id` must be re-indexed, in the caller's transaction.

    Call it from every service function that changes what a thread's search
    document holds (question or answer text, state, tags, status, deletion,
    learning-need flag). It only adds a row: nothing here talks to Meilisearch.
    `not_before` schedules the re-index for a time when the document will read
    differently without any write (an endorsement going stale).
    """
    enqueue_threads(session, [question_id], not_before)


def enqueue_threads(
    session: Session, question_ids: Iterable[int], not_before: datetime | None = None
) -> None:
    """`enqueue_thread` for each thread of `question_ids` (once each), in one statement."""
    at = not_before or utcnow()
    rows = [{"question_id": q, "available_at": at} for q in dict.fromkeys(question_ids)]
    if rows:
        session.execute(insert(OutboxEntry), rows)
