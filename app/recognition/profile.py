"""A person's profile: their reputation, their questions, and their answers with the
experts' verdicts on each, in a fixed number of queries however much they wrote."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.answers.models import Answer
from app.errors import NotFound
from app.questions.models import Question
from app.recognition.models import TopicReputation
from app.reviews.models import Review
from app.reviews.state import effective_state
from app.topics.models import Topic
from app.users.models import User

# How many of a person's most recent questions, and answers, a profile lists.
PROFILE_ITEMS = 50


@dataclass(frozen=True)
class ReviewedAnswer:
    """One of the person's answers as a reader sees it now, with every review it received
    (oldest first)."""

    answer: Answer
    state: str
    reviews: list[Review]


@dataclass(frozen=True)
class Profile:
    user: User
    #: Points per topic, most first.
    topic_reputation: list[tuple[Topic, int]]
    #: Live questions, newest first.
    questions: list[Question]
    more_questions: bool
    #: Live answers on live questions, newest first.
    answers: list[ReviewedAnswer]
    more_answers: bool


def person_by_username(session: Session, username: str) -> User:
    """The user with this username (deactivated ones too: what they wrote stays); 404
    when there is none."""
    user = session.execute(
        select(User).options(selectinload(User.expert_topics)).where(User.username == username)
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No one has the username {username!r}.")
    return user


def load_profile(
    session: Session, user: User, now: datetime, limit: int = PROFILE_ITEMS
) -> Profile:
    """What `user`'s profile shows at `now`; deleted questions and answers (and answers on
    deleted questions) are left out. A fixed number of queries, whatever the number of
    questions, answers and reviews."""
    topic_points = [
        (topic, int(points))
        for topic, points in session.execute(
            select(Topic, TopicReputation.points)
            .join(TopicReputation, TopicReputation.topic_id == Topic.id)
            .where(TopicReputation.user_id == user.id, TopicReputation.points > 0)
            .order_by(TopicReputation.points.desc(), Topic.name)
        )
    ]
    questions = list(
        session.execute(
            select(Question)
            .options(joinedload(Question.topic))
            .where(Question.author_id == user.id, Question.deleted_at.is_(None))
            .order_by(Question.id.desc())
            .limit(limit + 1)
        ).scalars()
    )
    answers = list(
        session.execute(
            select(Answer)
            .options(joinedload(Answer.question).joinedload(Question.topic))
            .join(Question, Answer.question_id == Question.id)
            .where(
                Answer.author_id == user.id,
                Answer.deleted_at.is_(None),
                Question.deleted_at.is_(None),
            )
            .order_by(Answer.id.desc())
            .limit(limit + 1)
        ).scalars()
    )
    shown = answers[:limit]
    reviews: dict[int, list[Review]] = {a.id: [] for a in shown}
    if shown:
        for review in session.execute(
            select(Review)
            .options(joinedload(Review.reviewer))
            .where(Review.answer_id.in_(list(reviews)))
            .order_by(Review.id)
        ).scalars():
            reviews[review.answer_id].append(review)
    return Profile(
        user=user,
        topic_reputation=topic_points,
        questions=questions[:limit],
        more_questions=len(questions) > limit,
        answers=[
            ReviewedAnswer(a, effective_state(a.state, a.stale_at, now), reviews[a.id])
            for a in shown
        ],
        more_answers=len(answers) > limit,
    )
