"""Asking, editing, deleting and listing questions."""

from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer
from app.audit import service as audit
from app.audit.service import AuditContext, Event
from app.db import store_new, utcnow
from app.errors import Forbidden, InvalidInput, NotFound
from app.notifications.models import NotificationKind
from app.notifications.service import News, notify_many
from app.outbox.service import enqueue_thread, enqueue_threads
from app.pagination import decode_cursor
from app.questions.models import Question, QuestionRevision, QuestionTag
from app.questions.schemas import QuestionCreate, QuestionUpdate
from app.topics.models import Topic
from app.users.models import Role, User

EDITABLE = ("title", "body", "tags")
_TAGS = cast(Table, QuestionTag.__table__)


def snapshot(question: Question) -> dict[str, Any]:
    """Everything needed to re-create the question as it stands."""
    return {
        "title": question.title,
        "body": question.body,
        "tags": question.tags,
        "topic_id": question.topic_id,
        "author_id": question.author_id,
        "status": question.status,
        "revision": question.revision,
    }


def _keep_revisions(
    session: Session,
    questions: list[Question],
    editor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Each question's current text and tags as its revision, by `editor_id` at `at` (by
    default its author when it was asked): one statement for all."""
    rows = [
        {
            "question_id": q.id,
            "number": q.revision,
            "title": q.title,
            "body": q.body,
            "tags": q.tags,
            "editor_id": editor_id or q.author_id,
            "created_at": at or q.created_at,
        }
        for q in questions
    ]
    if rows:
        session.execute(insert(QuestionRevision), rows)


def create_question(
    session: Session, ctx: AuditContext, author: User, data: QuestionCreate
) -> Question:
    topic = session.execute(select(Topic).where(Topic.slug == data.topic)).scalar_one_or_none()
    if topic is None:
        raise InvalidInput(
            f"Unknown topic {data.topic!r}.",
            errors=[{"field": "body.topic", "message": f"unknown topic {data.topic!r}"}],
        )
    question = Question(topic=topic, author=author, title=data.title, body=data.body)
    question.tags = data.tags
    return add_questions(session, ctx, [question], {topic.id: topic.slug})[0]


def add_questions(
    session: Session,
    ctx: AuditContext,
    questions: list[Question],
    topics: dict[int, str],
    *,
    announce: bool = True,
    in_session: bool = True,
) -> list[Question]:
    """Store new questions (their topic, author, text and tags set, and their times when
    they are not now) with their first revision, search outbox row and `question.create`
    event: one flush and one append to the chain for all. `topics` names each topic id.
    The topics' experts hear of them unless `announce` is off (an import's old threads
    are not news). Without `in_session` they are stored by Core inserts and stay out of
    the session (`insert_new`: an import's thousands)."""
    now = utcnow()
    for question in questions:
        question.revision = 1
        question.created_at = question.created_at or now
        question.updated_at = question.updated_at or question.created_at
        question.topic_id = question.topic_id or question.topic.id
        question.author_id = question.author_id or question.author.id
    store_new(session, questions, in_session=in_session)
    if not in_session:  # the tags too: nothing of these questions is flushed later
        tag_rows = [
            {"question_id": q.id, "tag": row.tag, "position": row.position}
            for q in questions
            for row in q.tag_rows
        ]
        if tag_rows:
            session.execute(insert(_TAGS), tag_rows)
    _keep_revisions(session, questions)
    enqueue_threads(session, (q.id for q in questions))
    if announce:
        notify_many(
            session,
            [
                News(NotificationKind.question_new, q.topic_id, q.id, actor_id=q.author_id)
                for q in questions
            ],
        )
    events = [
        Event(
            "question.create",
            "question",
            q.id,
            {"after": {**snapshot(q), "topic": topics[q.topic_id]}},
        )
        for q in questions
    ]
    audit.record_many(session, ctx, events)
    return questions


# Built once: each lookup binds its id and reuses the statement and its SQL.
_LIVE_QUESTION = (
    select(Question)
    .options(
        joinedload(Question.topic),
        joinedload(Question.author),
        joinedload(Question.tag_rows),
    )
    .where(Question.id == bindparam("question_id"), Question.deleted_at.is_(None))
)


class QuestionRef(Protocol):
    """What answering a question needs of it: which it is, its topic, who asked."""

    id: int
    topic_id: int
    author_id: int


_LIVE_QUESTION_REF = select(Question.id, Question.topic_id, Question.author_id).where(
    Question.id == bindparam("question_id"), Question.deleted_at.is_(None)
)


def get_question_ref(session: Session, question_id: int) -> QuestionRef:
    """`get_question`'s check and the three columns answering needs, without loading the
    question, its topic, author and tags: the answer endpoint's lookup."""
    row = session.execute(_LIVE_QUESTION_REF, {"question_id": question_id}).one_or_none()
    if row is None:
        raise NotFound(f"No question with id {question_id}.")
    return cast(QuestionRef, row)


def get_question(session: Session, question_id: int) -> Question:
    """A live (not tombstoned) question with its topic and author; 404 otherwise."""
    found = session.execute(_LIVE_QUESTION, {"question_id": question_id})
    question = found.unique().scalar_one_or_none()
    if question is None:
        raise NotFound(f"No question with id {question_id}.")
    return question


def may_edit(user: User, author_id: int) -> bool:
    """Authors edit (and delete) their own content; admins anyone's."""
    return user.id == author_id or Role.admin in user.roles


def check_may_edit(user: User, author_id: int) -> None:
    """403 unless `may_edit`."""
    if not may_edit(user, author_id):
        raise Forbidden("Only the author or an admin may change this.")


def update_question(
    session: Session, ctx: AuditContext, editor: User, question: Question, data: QuestionUpdate
) -> Question:
    check_may_edit(editor, question.author_id)
    changes = {
        name: value
        for name, value in data.model_dump(exclude_unset=True, exclude_none=True).items()
        if getattr(question, name) != value
    }
    if not changes:
        return question
    before = {name: getattr(question, name) for name in changes}
    for name, value in changes.items():
        setattr(question, name, value)
    question.revision += 1
    question.updated_at = utcnow()
    session.flush()
    _keep_revisions(session, [question], editor.id, question.updated_at)
    enqueue_thread(session, question.id)
    audit.record(
        session,
        ctx,
        "question.update",
        target_type="question",
        target_id=question.id,
        payload={"before": before, "after": changes, "revision": question.revision},
    )
    return question


def delete_question(session: Session, ctx: AuditContext, user: User, question: Question) -> None:
    check_may_edit(user, question.author_id)
    before = snapshot(question)
    question.deleted_at = utcnow()
    question.deleted_by_id = user.id
    session.flush()
    enqueue_thread(session, question.id)
    audit.record(
        session,
        ctx,
        "question.delete",
        target_type="question",
        target_id=question.id,
        payload={"before": before},
    )


def list_questions(
    session: Session,
    *,
    limit: int,
    cursor: str | None,
    topic: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    author: str | None = None,
    unanswered: bool = False,
) -> list[Question]:
    """Newest first, `limit + 1` rows so the caller can tell whether a next page exists.

    `unanswered` keeps the questions with no live answer yet.
    """
    after = decode_cursor(cursor)
    query = (
        select(Question)
        .options(joinedload(Question.topic), joinedload(Question.author))
        .where(Question.deleted_at.is_(None))
        .order_by(Question.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(Question.id < after)
    if topic is not None:
        query = query.join(Topic, Question.topic_id == Topic.id).where(Topic.slug == topic)
    if author is not None:
        query = query.join(User, Question.author_id == User.id).where(User.username == author)
    if tag is not None:
        query = query.where(
            Question.id.in_(select(QuestionTag.question_id).where(QuestionTag.tag == tag))
        )
    if status is not None:
        query = query.where(Question.status == status)
    if unanswered:
        live_answer = select(Answer.id).where(
            Answer.question_id == Question.id, Answer.deleted_at.is_(None)
        )
        query = query.where(~live_answer.exists())
    return list(session.execute(query).scalars())


def answer_counts(session: Session, question_ids: list[int]) -> dict[int, int]:
    """How many live answers each question has (absent: none), in one query."""
    if not question_ids:
        return {}
    rows = session.execute(
        select(Answer.question_id, func.count())
        .where(Answer.question_id.in_(question_ids), Answer.deleted_at.is_(None))
        .group_by(Answer.question_id)
    )
    return {question_id: count for question_id, count in rows}


def list_revisions(
    session: Session, question: Question, limit: int, cursor: str | None
) -> list[QuestionRevision]:
    """Oldest first: revision 1 is the question as originally asked."""
    after = decode_cursor(cursor) or 0
    return list(
        session.execute(
            select(QuestionRevision)
            .where(QuestionRevision.question_id == question.id, QuestionRevision.number > after)
            .order_by(QuestionRevision.number)
            .limit(limit + 1)
        ).scalars()
    )
