"""The review queue: what an expert should look at next, flagged first, then stale, then oldest."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer, ValidationState
from app.errors import InvalidCursor
from app.pagination import is_id, pack_cursor, unpack_cursor
from app.questions.models import Question
from app.reviews.models import Review, Verdict
from app.users.models import User

BUCKETS = {0: "flagged", 1: "stale", 2: "unreviewed"}


@dataclass(frozen=True)
class QueueEntry:
    answer: Answer
    bucket: int

    @property
    def reason(self) -> str:
        return BUCKETS[self.bucket]


def _bucket(now: datetime) -> Any:
    stale = and_(Answer.state == ValidationState.endorsed, Answer.stale_at <= now)
    return case((Answer.open_flags > 0, 0), (stale, 1), else_=2)


def encode_position(entry: QueueEntry) -> str:
    return pack_cursor([entry.bucket, entry.answer.created_at.isoformat(), entry.answer.id])


def _decode_position(cursor: str) -> tuple[int, datetime, int]:
    try:
        bucket, created, answer_id = unpack_cursor(cursor)
        position = (bucket, datetime.fromisoformat(created), answer_id)
    except (ValueError, TypeError):
        raise InvalidCursor("The cursor is not one this API issued.") from None
    bucket_ok = type(position[0]) is int and position[0] in BUCKETS
    if not bucket_ok or position[1].tzinfo is None or not is_id(position[2]):
        raise InvalidCursor("The cursor is not one this API issued.")
    return position


def review_queue(
    session: Session, expert: User, now: datetime, limit: int, cursor: str | None
) -> list[QueueEntry]:
    """Live answers in the expert's topics, not their own, that need a (re)view."""
    topic_ids = [t.id for t in expert.expert_topics]
    if not topic_ids:
        return []
    bucket = _bucket(now).label("bucket")
    # An answer awaiting more endorsements waits for other experts: a second endorsement
    # by one who already endorsed this revision would not count.
    endorsed_by_me = (
        select(Review.id)
        .where(
            Review.answer_id == Answer.id,
            Review.answer_revision == Answer.revision,
            Review.reviewer_id == expert.id,
            Review.verdict == Verdict.endorse,
        )
        .exists()
    )
    needs_review = or_(
        Answer.open_flags > 0,
        Answer.state == ValidationState.unreviewed,
        and_(Answer.state == ValidationState.awaiting_endorsement, ~endorsed_by_me),
        and_(Answer.state == ValidationState.endorsed, Answer.stale_at <= now),
    )
    query = (
        select(Answer, bucket)
        .options(joinedload(Answer.author), joinedload(Answer.question).joinedload(Question.topic))
        .join(Question, Answer.question_id == Question.id)
        .where(
            Answer.topic_id.in_(topic_ids),
            Answer.author_id != expert.id,
            Answer.deleted_at.is_(None),
            Question.deleted_at.is_(None),
            needs_review,
        )
        .order_by(bucket, Answer.created_at, Answer.id)
        .limit(limit + 1)
    )
    if cursor is not None:
        b, created, answer_id = _decode_position(cursor)
        expr = _bucket(now)
        query = query.where(
            or_(
                expr > b,
                and_(expr == b, Answer.created_at > created),
                and_(expr == b, Answer.created_at == created, Answer.id > answer_id),
            )
        )
    return [QueueEntry(answer, int(b)) for answer, b in session.execute(query)]
