"""The thread page: a question with its answers, verdicts, comments and the topic's
signposts, in a fixed number of queries whatever its size."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer
from app.answers.schemas import AnswerOut
from app.comments.models import Comment
from app.comments.schemas import CommentOut
from app.db import utcnow
from app.questions.models import Question
from app.questions.schemas import QuestionOut
from app.questions.service import get_question
from app.resources.schemas import ResourceOut
from app.resources.service import list_resources
from app.reviews.models import Review
from app.reviews.schemas import ReviewOut
from app.schemas import ResponseModel, UserSummary
from app.signals.models import LearningNeed, SignalKind
from app.users.models import User


class ThreadAnswer(AnswerOut):
    comments: list[CommentOut]
    reviews: list[ReviewOut]


class ThreadSignal(ResponseModel):
    id: int
    status: str
    wrong_count: int


class Thread(ResponseModel):
    question: QuestionOut
    answers: list[ThreadAnswer]
    comments: list[CommentOut]
    resources: list[ResourceOut]
    learning_need: ThreadSignal | None


def question_out(question: Question) -> QuestionOut:
    return QuestionOut(
        id=question.id,
        title=question.title,
        body=question.body,
        topic=question.topic.slug,
        tags=question.tags,
        status=question.status,
        author=UserSummary.model_validate(question.author),
        revision=question.revision,
        created_at=question.created_at,
        updated_at=question.updated_at,
    )


def _grouped(rows: list[Any], key: str) -> dict[int | None, list[Any]]:
    groups: dict[int | None, list[Any]] = {}
    for row in rows:
        groups.setdefault(getattr(row, key), []).append(row)
    return groups


@dataclass(frozen=True)
class ThreadTopic:
    """What a thread's reader is told of its topic."""

    slug: str
    name: str
    description: str
    required_endorsements: int


@dataclass(frozen=True)
class ThreadPage:
    """The thread as the web page shows it: the API's thread and its topic."""

    thread: Thread
    topic: ThreadTopic


def load_thread(session: Session, question_id: int) -> Thread:
    """The whole thread; the number of SQL queries does not grow with its size."""
    return _thread_of(session, get_question(session, question_id))


def load_thread_page(session: Session, question_id: int) -> ThreadPage:
    """`load_thread` with the topic's name, description and required endorsements (loaded
    with the question: no extra query)."""
    question = get_question(session, question_id)
    topic = question.topic
    return ThreadPage(
        thread=_thread_of(session, question),
        topic=ThreadTopic(topic.slug, topic.name, topic.description, topic.required_endorsements),
    )


# Authors shown beside what they wrote: their summary columns only (no roles to decode).
_AUTHOR_COLUMNS = (User.id, User.username, User.display_name)


def _thread_of(session: Session, question: Question) -> Thread:
    now = utcnow()
    answers = list(
        session.execute(
            select(Answer)
            .options(joinedload(Answer.author).load_only(*_AUTHOR_COLUMNS))
            .where(Answer.question_id == question.id, Answer.deleted_at.is_(None))
            .order_by(Answer.id)
        ).scalars()
    )
    comments = _grouped(
        list(
            session.execute(
                select(Comment)
                .options(joinedload(Comment.author).load_only(*_AUTHOR_COLUMNS))
                .where(Comment.question_id == question.id)
                .order_by(Comment.id)
            ).scalars()
        ),
        "answer_id",
    )
    reviews = _grouped(
        list(
            session.execute(
                select(Review)
                .options(joinedload(Review.reviewer).load_only(*_AUTHOR_COLUMNS))
                .join(Answer, Review.answer_id == Answer.id)
                .where(Answer.question_id == question.id, Answer.deleted_at.is_(None))
                .order_by(Review.id)
            ).scalars()
        ),
        "answer_id",
    )
    signal = session.execute(
        select(LearningNeed).where(
            LearningNeed.kind == SignalKind.thread, LearningNeed.question_id == question.id
        )
    ).scalar_one_or_none()
    return Thread(
        question=question_out(question),
        answers=[
            ThreadAnswer.at(
                a,
                now,
                comments=[CommentOut.model_validate(c) for c in comments.get(a.id, [])],
                reviews=[ReviewOut.model_validate(r) for r in reviews.get(a.id, [])],
            )
            for a in answers
        ],
        comments=[CommentOut.model_validate(c) for c in comments.get(None, [])],
        resources=[
            ResourceOut.model_validate(r) for r in list_resources(session, question.topic_id)
        ],
        learning_need=ThreadSignal.model_validate(signal) if signal else None,
    )
