"""Reputation points, the leaderboard and the digest of newly validated answers."""

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer
from app.questions.models import Question
from app.recognition.models import ReputationEvent, TopicReputation
from app.reviews.state import VALIDATED_STATES
from app.users.models import User

POINTS = {"answer.endorsed": 10, "answer.corrected": 2, "review.done": 1}


def award(
    session: Session, user_id: int, topic_id: int, reason: str, answer_id: int, now: datetime
) -> int:
    """Credit `reason`'s points to a user overall and in the topic; returns the points."""
    points = POINTS[reason]
    session.add(
        ReputationEvent(
            user_id=user_id,
            topic_id=topic_id,
            reason=reason,
            points=points,
            answer_id=answer_id,
            created_at=now,
        )
    )
    session.execute(
        update(User).where(User.id == user_id).values(reputation=User.reputation + points)
    )
    updated = session.execute(
        update(TopicReputation)
        .where(TopicReputation.user_id == user_id, TopicReputation.topic_id == topic_id)
        .values(points=TopicReputation.points + points)
    )
    if not getattr(updated, "rowcount", 0):
        session.add(TopicReputation(user_id=user_id, topic_id=topic_id, points=points))
    session.flush()
    return points


def already_awarded(session: Session, answer_id: int, reason: str) -> bool:
    return (
        session.execute(
            select(ReputationEvent.id)
            .where(ReputationEvent.answer_id == answer_id, ReputationEvent.reason == reason)
            .limit(1)
        ).first()
        is not None
    )


def leaderboard(session: Session, topic_id: int | None, limit: int) -> list[tuple[User, int]]:
    """Users by reputation, overall or within one topic; ties by username."""
    if topic_id is None:
        rows = session.execute(
            select(User, User.reputation)
            .where(User.active.is_(True), User.reputation > 0)
            .order_by(User.reputation.desc(), User.username)
            .limit(limit)
        )
    else:
        rows = session.execute(
            select(User, TopicReputation.points)
            .join(TopicReputation, TopicReputation.user_id == User.id)
            .where(
                TopicReputation.topic_id == topic_id,
                User.active.is_(True),
                TopicReputation.points > 0,
            )
            .order_by(TopicReputation.points.desc(), User.username)
            .limit(limit)
        )
    return [(user, int(points)) for user, points in rows]


def validated_since(
    session: Session, since: datetime, limit: int, after_id: int | None
) -> list[Answer]:
    """Live answers endorsed or corrected since `since`, newest validation first."""
    query = (
        select(Answer)
        .options(joinedload(Answer.author), joinedload(Answer.question).joinedload(Question.topic))
        .join(Question, Answer.question_id == Question.id)
        .where(
            Answer.validated_at >= since,
            Answer.state.in_([str(s) for s in VALIDATED_STATES]),
            Answer.deleted_at.is_(None),
            Question.deleted_at.is_(None),
        )
        .order_by(Answer.id.desc())
        .limit(limit + 1)
    )
    if after_id is not None:
        query = query.where(Answer.id < after_id)
    return list(session.execute(query).scalars())


def top_contributors(session: Session, since: datetime, limit: int = 10) -> list[tuple[User, int]]:
    """Who earned the most reputation since `since`."""
    points = func.sum(ReputationEvent.points).label("points")
    rows = session.execute(
        select(User, points)
        .join(ReputationEvent, ReputationEvent.user_id == User.id)
        .where(ReputationEvent.created_at >= since)
        .group_by(User.id)
        .order_by(points.desc(), User.username)
        .limit(limit)
    )
    return [(user, int(total)) for user, total in rows]
