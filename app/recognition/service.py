"""Reputation points, the leaderboard and the digest of newly validated answers."""

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.util import identity_key

from app.answers.models import Answer
from app.db import dialect_insert
from app.questions.models import Question
from app.recognition.models import ReputationEvent, TopicReputation
from app.reviews.state import VALIDATED_STATES
from app.users.models import User

POINTS = {"answer.endorsed": 10, "answer.corrected": 2, "review.done": 1}


@dataclass(frozen=True)
class Award:
    """Points owed to a user for `reason` about an answer, in a topic."""

    user_id: int
    topic_id: int
    reason: str
    answer_id: int


def award(
    session: Session, user_id: int, topic_id: int, reason: str, answer_id: int, now: datetime
) -> int:
    """Credit `reason`'s points to a user overall and in the topic; returns the points."""
    award_many(session, [Award(user_id, topic_id, reason, answer_id)], now)
    return POINTS[reason]


# Core statements, so that one execution with many parameter sets moves many totals.
_USERS = cast(Table, User.__table__)
_TOPICS = cast(Table, TopicReputation.__table__)
_EVENTS = cast(Table, ReputationEvent.__table__)
_ADD_REPUTATION = (
    update(_USERS)
    .where(_USERS.c.id == bindparam("user"))
    .values(reputation=_USERS.c.reputation + bindparam("points"))
)


def award_many(session: Session, awards: list[Award], now: datetime) -> None:
    """Credit many awards: one event each, and each user's and (user, topic)'s total moved
    once, whatever the number of awards."""
    if not awards:
        return
    session.execute(
        insert(_EVENTS),
        [
            {
                "user_id": a.user_id,
                "topic_id": a.topic_id,
                "reason": a.reason,
                "points": POINTS[a.reason],
                "answer_id": a.answer_id,
                "created_at": now,
            }
            for a in awards
        ],
    )
    overall: Counter[int] = Counter()
    in_topic: Counter[tuple[int, int]] = Counter()
    for a in awards:
        overall[a.user_id] += POINTS[a.reason]
        in_topic[(a.user_id, a.topic_id)] += POINTS[a.reason]
    # Rows taken in one order (users, then (user, topic) pairs, sorted) by every
    # transaction: two reviews that pay the same two people cannot deadlock.
    session.execute(
        _ADD_REPUTATION,
        [{"user": user, "points": points} for user, points in sorted(overall.items())],
    )
    # Added to, or started: one statement, and no lost start when two transactions pay
    # the same person in a topic for the first time at once.
    start = dialect_insert(session, _TOPICS)
    session.execute(
        start.on_conflict_do_update(
            index_elements=[_TOPICS.c.user_id, _TOPICS.c.topic_id],
            set_={"points": _TOPICS.c.points + start.excluded.points},
        ),
        [
            {"user_id": user, "topic_id": topic, "points": points}
            for (user, topic), points in sorted(in_topic.items())
        ],
    )
    # The totals moved in the database: users loaded in this session read them again.
    for user in overall:
        loaded = session.identity_map.get(identity_key(User, user))
        if loaded is not None:
            session.expire(loaded, ["reputation"])
    session.flush()


def already_awarded(session: Session, answer_ids: list[int], reason: str) -> set[int]:
    """The answers among `answer_ids` whose authors were already paid for `reason`."""
    if not answer_ids:
        return set()
    paid = session.execute(
        select(ReputationEvent.answer_id).where(
            ReputationEvent.answer_id.in_(answer_ids), ReputationEvent.reason == reason
        )
    )
    return {answer_id for answer_id in paid.scalars() if answer_id is not None}


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
