"""From the database to search documents: one document per live thread."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app.answers.models import Answer, ValidationState
from app.db import utcnow
from app.questions.models import Question

EXCERPT_CHARS = 300
VALIDATED_STATES = frozenset({ValidationState.endorsed, ValidationState.corrected})


def answer_text(answer: Answer) -> str | None:
    """The text an answer contributes to search: the correction when an expert corrected it,
    nothing when it was rejected (a wrong answer must not make its thread match)."""
    if answer.state == ValidationState.rejected:
        return None
    if answer.state == ValidationState.corrected and answer.correction:
        return answer.correction
    return answer.body


def is_validated(answer: Answer, now: datetime) -> bool:
    """Endorsed or corrected, and not an endorsement gone stale by `now`."""
    if answer.state not in VALIDATED_STATES:
        return False
    return not (
        answer.state == ValidationState.endorsed
        and answer.stale_at is not None
        and answer.stale_at <= now
    )


def best_answer(answers: Sequence[Answer], now: datetime) -> Answer | None:
    """The thread's best validated (endorsed or corrected) answer: highest score, then earliest."""
    validated = [a for a in answers if is_validated(a, now)]
    if not validated:
        return None
    return min(validated, key=lambda a: (-a.score, a.id))


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0] + "…"


def thread_document(
    question: Question, answers: Sequence[Answer], now: datetime | None = None
) -> dict[str, Any]:
    """The search document of a live question and its live answers, as they read at `now`."""
    best = best_answer(answers, now or utcnow())
    best_text = answer_text(best) if best is not None else None
    texts = [t for a in answers if a is not best and (t := answer_text(a))]
    return {
        "id": question.id,
        "title": question.title,
        "body": question.body,
        "topic": question.topic.slug,
        "tags": question.tags,
        "status": question.status,
        "answers": texts,
        "best_answer_text": best_text,
        "best_answer": None
        if best is None or best_text is None
        else {"answer_id": best.id, "state": best.state, "excerpt": excerpt(best_text)},
        "validated": best is not None,
        "learning_need": bool(question.has_learning_need),
        "created_at": int(question.created_at.timestamp()),
        "score": max((a.score for a in answers if a.state != ValidationState.rejected), default=0),
        "answer_count": len(answers),
    }


def build_documents(
    session: Session, question_ids: Iterable[int]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Documents for the live threads among `question_ids`, and the ids to delete
    (tombstoned or missing questions). Two queries, however many threads and answers."""
    ids = sorted(set(question_ids))
    if not ids:
        return [], []
    questions = {
        q.id: q
        for q in session.execute(
            select(Question)
            .options(joinedload(Question.topic))
            .where(Question.id.in_(ids), Question.deleted_at.is_(None))
        )
        .unique()
        .scalars()
    }
    answers: dict[int, list[Answer]] = {qid: [] for qid in questions}
    if questions:
        for answer in session.execute(
            select(Answer)
            .where(Answer.question_id.in_(list(questions)), Answer.deleted_at.is_(None))
            .order_by(Answer.id)
        ).scalars():
            answers[answer.question_id].append(answer)
    now = utcnow()
    documents = [
        thread_document(questions[qid], answers[qid], now) for qid in ids if qid in questions
    ]
    return documents, [qid for qid in ids if qid not in questions]
