"""Writing to the outbox from the services that change threads."""

from sqlalchemy.orm import Session

from app.outbox.models import OutboxEntry


def enqueue_thread(session: Session, question_id: int) -> None:
    """Record that thread `question_id` must be re-indexed, in the caller's transaction.

    Call it from every service function that changes what a thread's search
    document holds (question or answer text, state, tags, status, deletion,
    learning-need flag). It only adds a row: nothing here talks to Meilisearch.
    """
    session.add(OutboxEntry(question_id=question_id))
