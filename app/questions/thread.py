"""The thread page: a question with its answers, verdicts, comments and the topic's
signposts, in a fixed number of queries whatever its size."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, func, select
from sqlalchemy.orm import Session

from app.answers.models import Answer, Vote
from app.answers.schemas import AnswerOut
from app.comments.models import Comment
from app.comments.schemas import CommentOut
from app.db import utcnow
from app.errors import NotFound
from app.questions.models import Question, QuestionTag
from app.questions.schemas import QuestionOut
from app.resources.models import Resource
from app.resources.schemas import ResourceOut
from app.reviews.models import Review
from app.reviews.schemas import ReviewOut
from app.reviews.state import effective_state
from app.schemas import ResponseModel, UserSummary
from app.signals.models import LearningNeed, SignalKind
from app.topics.models import Topic
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


def _grouped(rows: list[dict[str, Any]], key: str) -> dict[int | None, list[dict[str, Any]]]:
    groups: dict[int | None, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
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
    """The thread as the web page shows it: the API's thread, its topic, and the votes
    its reader has cast (answer id → +1 or -1)."""

    thread: Thread
    topic: ThreadTopic
    my_votes: dict[int, int]


def load_thread(session: Session, question_id: int) -> Thread:
    """The whole thread; the number of SQL queries does not grow with its size."""
    return load_thread_page(session, question_id).thread


def load_thread_page(session: Session, question_id: int, reader_id: int = 0) -> ThreadPage:
    """The thread with its topic's name, description and required endorsements (read
    with the question) and `reader_id`'s votes (read with the answers): no extra query;
    404 for a question that is not there or deleted."""
    rows = session.connection().execute(_QUESTION_ROWS, {"question_id": question_id}).all()
    if not rows:
        raise NotFound(f"No question with id {question_id}.")
    first = rows[0]
    question: dict[str, Any] = {name: getattr(first, name) for name in _QUESTION_FIELDS}
    question["topic"] = first.topic
    question["author"] = {
        "id": first.author_id,
        "username": first.username,
        "display_name": first.display_name,
    }
    question["tags"] = [row.tag for row in rows if row.tag is not None]
    topic = ThreadTopic(
        first.topic, first.topic_name, first.topic_description, first.required_endorsements
    )
    thread, my_votes = _thread_of(session, question, first.topic_id, reader_id)
    return ThreadPage(thread=thread, topic=topic, my_votes=my_votes)


# A thread is read far more often than it is written, so it is read as plain rows (no
# ORM identity map or instrumentation for a few hundred objects) with each author's
# summary columns joined in, and the response models are built from dictionaries.
_AUTHOR = (User.id.label("author_id"), User.username, User.display_name)


def _columns(model: Any, schema: type[ResponseModel], *skip: str) -> tuple[Any, ...]:
    """The model's columns that fill the schema's fields, less `skip`."""
    return tuple(getattr(model, name) for name in schema.model_fields if name not in skip)


_ANSWER_COLUMNS = (*_columns(Answer, AnswerOut, "author", "state"), Answer.state, Answer.stale_at)
_COMMENT_COLUMNS = _columns(Comment, CommentOut, "author")
_REVIEW_COLUMNS = _columns(Review, ReviewOut, "reviewer")


def _with_author(rows: Any, person: str) -> list[dict[str, Any]]:
    """Joined rows as dictionaries, each with its author's columns (the last three) as a
    `person` summary."""
    names = list(rows.keys())[:-3]
    return [
        {
            **dict(zip(names, row, strict=False)),
            person: {"id": row[-3], "username": row[-2], "display_name": row[-1]},
        }
        for row in rows
    ]


# Built once: each thread binds its question id and reuses the statement and its SQL.
_QUESTION: BindParameter[int] = bindparam("question_id")
_QUESTION_FIELDS = ("id", "title", "body", "status", "revision", "created_at", "updated_at")
# The question, its topic and author, one row per tag (one row of nulls without tags).
_QUESTION_ROWS = (
    select(
        *(getattr(Question, name) for name in _QUESTION_FIELDS),
        Question.topic_id,
        Topic.slug.label("topic"),
        Topic.name.label("topic_name"),
        Topic.description.label("topic_description"),
        Topic.required_endorsements,
        *_AUTHOR,
        QuestionTag.tag,
    )
    .join(Topic, Topic.id == Question.topic_id)
    .join(User, User.id == Question.author_id)
    .outerjoin(QuestionTag, QuestionTag.question_id == Question.id)
    .where(Question.id == _QUESTION, Question.deleted_at.is_(None))
    .order_by(QuestionTag.position)
)
_LIVE = (Answer.question_id == _QUESTION, Answer.deleted_at.is_(None))
# With the reader's vote on each answer (0 for none; reader 0 is nobody).
_MY_VOTE = and_(Vote.answer_id == Answer.id, Vote.user_id == bindparam("reader_id"))
_ANSWERS = (
    select(*_ANSWER_COLUMNS, func.coalesce(Vote.value, 0).label("my_vote"), *_AUTHOR)
    .join(User, User.id == Answer.author_id)
    .outerjoin(Vote, _MY_VOTE)
    .where(*_LIVE)
    .order_by(Answer.id)
)
_COMMENTS = (
    select(*_COMMENT_COLUMNS, *_AUTHOR)
    .join(User, User.id == Comment.author_id)
    .where(Comment.question_id == _QUESTION)
    .order_by(Comment.id)
)
_REVIEWS = (
    select(*_REVIEW_COLUMNS, *_AUTHOR)
    .join(Answer, Review.answer_id == Answer.id)
    .join(User, User.id == Review.reviewer_id)
    .where(*_LIVE)
    .order_by(Review.id)
)
_SIGNAL = select(*_columns(LearningNeed, ThreadSignal)).where(
    LearningNeed.kind == SignalKind.thread, LearningNeed.question_id == _QUESTION
)
_RESOURCES = (
    select(*_columns(Resource, ResourceOut))
    .where(Resource.topic_id == bindparam("topic_id"))
    .order_by(Resource.id)
)


def _thread_of(
    session: Session, question: dict[str, Any], topic_id: int, reader_id: int
) -> tuple[Thread, dict[int, int]]:
    """The thread of `question`, and `reader_id`'s votes on its answers."""
    now = utcnow()
    my_votes: dict[int, int] = {}
    on = {"question_id": question["id"]}
    # The session's connection: these are plain rows, the ORM's execution layer adds nothing.
    db = session.connection()
    comments = _grouped(_with_author(db.execute(_COMMENTS, on), "author"), "answer_id")
    reviews = _grouped(_with_author(db.execute(_REVIEWS, on), "reviewer"), "answer_id")

    def answer(fields: dict[str, Any]) -> dict[str, Any]:
        fields["state"] = effective_state(fields["state"], fields.pop("stale_at"), now)
        if vote := fields.pop("my_vote"):
            my_votes[fields["id"]] = vote
        fields["comments"] = comments.get(fields["id"], [])
        fields["reviews"] = reviews.get(fields["id"], [])
        return fields

    signal = db.execute(_SIGNAL, on).one_or_none()
    thread = Thread.model_validate(
        {
            "question": question,
            "answers": [
                answer(a)
                for a in _with_author(
                    db.execute(_ANSWERS, {**on, "reader_id": reader_id}), "author"
                )
            ],
            "comments": comments.get(None, []),
            "resources": [row._asdict() for row in db.execute(_RESOURCES, {"topic_id": topic_id})],
            "learning_need": signal._asdict() if signal else None,
        }
    )
    return thread, my_votes
