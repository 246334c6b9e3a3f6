"""Answering, editing, deleting and voting on answers."""

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.answers.models import Answer, AnswerRevision, ValidationState, Vote
from app.answers.schemas import AnswerCreate, AnswerUpdate
from app.audit import service as audit
from app.audit.service import AuditContext, Event
from app.db import store_new, utcnow
from app.errors import NotFound, OwnAnswerVote
from app.notifications.models import NotificationKind
from app.notifications.service import News, notify_many
from app.outbox.service import enqueue_thread, enqueue_threads
from app.pagination import decode_cursor
from app.questions.models import Question
from app.questions.service import QuestionRef, check_may_edit
from app.reviews.service import after_answer_change
from app.users.models import User


def snapshot(answer: Answer) -> dict[str, Any]:
    """Everything needed to re-create the answer as it stands."""
    return {
        "question_id": answer.question_id,
        "author_id": answer.author_id,
        "body": answer.body,
        "state": answer.state,
        "score": answer.score,
        "revision": answer.revision,
    }


def _keep_revisions(
    session: Session,
    answers: list[Answer],
    editor_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Each answer's current text as its revision, by `editor_id` at `at` (by default its
    author when it was written): one statement for all."""
    rows = [
        {
            "answer_id": a.id,
            "number": a.revision,
            "body": a.body,
            "editor_id": editor_id or a.author_id,
            "created_at": at or a.created_at,
        }
        for a in answers
    ]
    if rows:
        session.execute(insert(AnswerRevision), rows)


def create_answer(
    session: Session, ctx: AuditContext, author: User, question: QuestionRef, data: AnswerCreate
) -> Answer:
    answer = Answer(
        question_id=question.id, topic_id=question.topic_id, author=author, body=data.body
    )
    return add_answers(session, ctx, [answer], {question.id: question.author_id})[0]


def add_answers(
    session: Session,
    ctx: AuditContext,
    answers: list[Answer],
    askers: dict[int, int] | None = None,
    *,
    in_session: bool = True,
) -> list[Answer]:
    """Store new, unreviewed answers (their question, topic, author and body set; their
    score and times when they are not zero and now) with their first revision, search
    outbox row and `answer.create` event: one flush and one append to the chain for all.
    With `askers` (question id → its author's id), the topics' experts and the askers
    hear of them; an import's old answers are not news. Without `in_session` they are
    stored by one Core insert and stay out of the session (`insert_new`)."""
    now = utcnow()
    for answer in answers:
        answer.state = ValidationState.unreviewed
        answer.score = answer.score or 0
        answer.revision = 1
        answer.open_flags = 0
        answer.created_at = answer.created_at or now
        answer.updated_at = answer.updated_at or answer.created_at
        answer.author_id = answer.author_id or answer.author.id
    store_new(session, answers, in_session=in_session)
    _keep_revisions(session, answers)
    enqueue_threads(session, (a.question_id for a in answers))
    if askers is not None:
        notify_many(session, [news for a in answers for news in _news_of(a, askers)])
    events = [Event("answer.create", "answer", a.id, {"after": snapshot(a)}) for a in answers]
    audit.record_many(session, ctx, events)
    return answers


def _news_of(answer: Answer, askers: dict[int, int]) -> list[News]:
    about = (answer.topic_id, answer.question_id, answer.id, answer.author_id)
    return [
        News(NotificationKind.answer_new, *about),
        News(NotificationKind.question_answered, *about, recipient_id=askers[answer.question_id]),
    ]


def get_answer(session: Session, answer_id: int) -> Answer:
    """A live answer on a live question, with its author; 404 otherwise."""
    answer = session.execute(
        select(Answer)
        .options(joinedload(Answer.author))
        .join(Question, Answer.question_id == Question.id)
        .where(Answer.id == answer_id, Answer.deleted_at.is_(None), Question.deleted_at.is_(None))
    ).scalar_one_or_none()
    if answer is None:
        raise NotFound(f"No answer with id {answer_id}.")
    return answer


def update_answer(
    session: Session, ctx: AuditContext, editor: User, answer: Answer, data: AnswerUpdate
) -> Answer:
    check_may_edit(editor, answer.author_id)
    if data.body == answer.body:
        return answer
    before = {"body": answer.body, "state": answer.state}
    answer.body = data.body
    answer.revision += 1
    answer.updated_at = utcnow()
    session.flush()
    _keep_revisions(session, [answer], editor.id, answer.updated_at)
    enqueue_thread(session, answer.question_id)
    after_answer_change(session, answer)
    audit.record(
        session,
        ctx,
        "answer.update",
        target_type="answer",
        target_id=answer.id,
        payload={
            "before": before,
            "after": {"body": answer.body, "state": answer.state},
            "revision": answer.revision,
        },
    )
    return answer


def delete_answer(session: Session, ctx: AuditContext, user: User, answer: Answer) -> None:
    check_may_edit(user, answer.author_id)
    before = snapshot(answer)
    answer.deleted_at = utcnow()
    answer.deleted_by_id = user.id
    session.flush()
    enqueue_thread(session, answer.question_id)
    after_answer_change(session, answer)
    audit.record(
        session,
        ctx,
        "answer.delete",
        target_type="answer",
        target_id=answer.id,
        payload={"before": before},
    )


def may_vote(voter: User, author_id: int) -> bool:
    """Votes are for other people's answers."""
    return voter.id != author_id


_ANSWERS = cast(Table, Answer.__table__)
_ADD_TO_SCORE = (
    update(_ANSWERS)
    .where(_ANSWERS.c.id == bindparam("answer_id"))
    .values(score=_ANSWERS.c.score + bindparam("delta"))
    .returning(_ANSWERS.c.score)
)


def cast_vote(session: Session, ctx: AuditContext, voter: User, answer: Answer, value: int) -> int:
    """Record or replace the voter's vote; returns the answer's new score."""
    if not may_vote(voter, answer.author_id):
        raise OwnAnswerVote("Votes are for other people's answers.")
    vote = session.get(Vote, (answer.id, voter.id), with_for_update=True)
    previous = vote.value if vote else None
    if vote is None:
        session.add(Vote(answer_id=answer.id, user_id=voter.id, value=value))
    else:
        vote.value, vote.updated_at = value, utcnow()
    # Adjusted in SQL so two voters at once cannot lose each other's change; the new
    # score read back by the same statement.
    delta = value - (previous or 0)
    score = session.execute(_ADD_TO_SCORE, {"answer_id": answer.id, "delta": delta}).scalar_one()
    set_committed_value(answer, "score", score)
    enqueue_thread(session, answer.question_id)
    audit.record(
        session,
        ctx,
        "vote.cast",
        target_type="answer",
        target_id=answer.id,
        payload={"before": {"value": previous}, "after": {"value": value}, "score": answer.score},
    )
    return answer.score


def list_revisions(
    session: Session, answer: Answer, limit: int, cursor: str | None
) -> list[AnswerRevision]:
    """Oldest first: revision 1 is the answer as originally posted."""
    after = decode_cursor(cursor) or 0
    return list(
        session.execute(
            select(AnswerRevision)
            .where(AnswerRevision.answer_id == answer.id, AnswerRevision.number > after)
            .order_by(AnswerRevision.number)
            .limit(limit + 1)
        ).scalars()
    )
