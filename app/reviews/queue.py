"""The review queue: what an expert should look at next, flagged first, then stale, then oldest."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer, ValidationState
from app.errors import InvalidCursor
from app.pagination import is_id, pack_cursor, unpack_cursor
from app.questions.models import Question
from app.resources.models import Resource
from app.reviews.models import Flag, Review, Verdict
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


@dataclass(frozen=True)
class QueueDetails:
    """What a reviewer reads beside queued answers, keyed by answer id (`signposts` by
    topic id)."""

    flag_reasons: dict[int, list[str]] = field(default_factory=dict)
    endorsers: dict[int, list[str]] = field(default_factory=dict)
    signposts: dict[int, list[Resource]] = field(default_factory=dict)


def counting_endorsers(reviews: Sequence[tuple[str, int]]) -> list[int]:
    """The experts whose endorsements count now, from (verdict, reviewer id) of the current
    revision's reviews, oldest first: a reject or correct starts the count again."""
    endorsers: list[int] = []
    for verdict, reviewer_id in reviews:
        if verdict != Verdict.endorse:
            endorsers = []
        elif reviewer_id not in endorsers:
            endorsers.append(reviewer_id)
    return endorsers


def queue_details(session: Session, entries: Sequence[QueueEntry]) -> QueueDetails:
    """The open flags' reasons, who has endorsed an answer awaiting more endorsements, and
    the signposts of the answers' topics: three queries at most, whatever the page size."""
    answers = [e.answer for e in entries]
    if not answers:
        return QueueDetails()
    flag_reasons: dict[int, list[str]] = {}
    flagged = [a.id for a in answers if a.open_flags]
    if flagged:
        rows = session.execute(
            select(Flag.answer_id, Flag.reason)
            .where(Flag.answer_id.in_(flagged), Flag.resolved_at.is_(None))
            .order_by(Flag.id)
        )
        for answer_id, reason in rows:
            flag_reasons.setdefault(answer_id, []).append(reason)

    endorsers: dict[int, list[str]] = {}
    awaiting = [a.id for a in answers if a.state == ValidationState.awaiting_endorsement]
    if awaiting:
        reviews: dict[int, list[tuple[str, int]]] = {}
        names: dict[int, str] = {}
        verdicts = session.execute(
            select(Review.answer_id, Review.verdict, Review.reviewer_id, User.display_name)
            .join(Answer, Review.answer_id == Answer.id)
            .join(User, Review.reviewer_id == User.id)
            .where(Review.answer_id.in_(awaiting), Review.answer_revision == Answer.revision)
            .order_by(Review.id)
        )
        for answer_id, verdict, reviewer_id, name in verdicts:
            reviews.setdefault(answer_id, []).append((verdict, reviewer_id))
            names[reviewer_id] = name
        endorsers = {
            answer_id: [names[r] for r in counting_endorsers(facts)]
            for answer_id, facts in reviews.items()
        }

    signposts: dict[int, list[Resource]] = {}
    topic_ids = {a.topic_id for a in answers}
    for resource in session.execute(
        select(Resource).where(Resource.topic_id.in_(topic_ids)).order_by(Resource.id)
    ).scalars():
        signposts.setdefault(resource.topic_id, []).append(resource)
    return QueueDetails(flag_reasons, endorsers, signposts)
