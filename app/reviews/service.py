"""Reviewing and flagging answers; the effects of a verdict on everything around it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.answers.models import Answer, ValidationState
from app.audit import service as audit
from app.audit.service import AuditContext
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, SelfReview
from app.outbox.service import enqueue_thread
from app.questions.models import Question, QuestionStatus
from app.recognition.service import already_awarded, award
from app.resources.models import Resource
from app.reviews.models import Flag, Review
from app.reviews.schemas import ReviewCreate
from app.reviews.state import VALIDATED_STATES, WRONG_STATES, ReviewFact, stale_at, validate
from app.signals.service import after_review, record_changes, sync_thread_flag
from app.topics.models import Topic
from app.users.models import User


def lock_answer(session: Session, answer_id: int) -> Answer:
    """The live answer, row-locked so concurrent reviews of it apply one after another."""
    answer = session.execute(
        select(Answer)
        .join(Question, Answer.question_id == Question.id)
        .where(Answer.id == answer_id, Answer.deleted_at.is_(None), Question.deleted_at.is_(None))
        .with_for_update(of=Answer)
    ).scalar_one_or_none()
    if answer is None:
        raise NotFound(f"No answer with id {answer_id}.")
    return answer


def _references(session: Session, topic_id: int, refs: list[Any]) -> list[dict[str, Any]]:
    ids = [ref for ref in refs if isinstance(ref, int)]
    known = (
        {
            r.id: r
            for r in session.execute(
                select(Resource).where(Resource.id.in_(ids), Resource.topic_id == topic_id)
            ).scalars()
        }
        if ids
        else {}
    )
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InvalidInput(
            "References must be resources of this answer's topic or URLs.",
            errors=[
                {"field": "body.references", "message": f"unknown resource {i}"} for i in unknown
            ],
        )
    return [
        {"resource_id": ref, "title": known[ref].title, "url": known[ref].url}
        if isinstance(ref, int)
        else {"url": str(ref)}
        for ref in refs
    ]


def refresh_validation(session: Session, answer: Answer, topic: Topic, now: datetime) -> None:
    """Recompute the answer's stored state from the reviews of its current revision."""
    reviews = session.execute(
        select(Review)
        .where(Review.answer_id == answer.id, Review.answer_revision == answer.revision)
        .order_by(Review.id)
    ).scalars()
    facts = [ReviewFact(r.verdict, r.reviewer_id, r.created_at, r.correction) for r in reviews]
    result = validate(facts, topic.required_endorsements)
    if result.state in VALIDATED_STATES and answer.state not in VALIDATED_STATES:
        answer.validated_at = now
    elif result.state not in VALIDATED_STATES:
        answer.validated_at = None
    answer.state = result.state
    answer.correction = result.correction
    answer.last_endorsed_at = result.last_endorsed_at
    answer.stale_at = stale_at(result.last_endorsed_at, topic.review_interval_days)


def sync_question_status(session: Session, question_id: int) -> None:
    """`resolved` while the thread has a live endorsed or corrected answer, else `open`;
    a closed question stays closed."""
    validated = session.execute(
        select(Answer.id)
        .where(
            Answer.question_id == question_id,
            Answer.deleted_at.is_(None),
            Answer.state.in_([str(s) for s in VALIDATED_STATES]),
        )
        .limit(1)
    ).first()
    session.execute(
        update(Question)
        .where(Question.id == question_id, Question.status != QuestionStatus.closed)
        .values(status=QuestionStatus.resolved if validated else QuestionStatus.open)
    )


def create_review(
    session: Session,
    settings: Settings,
    ctx: AuditContext,
    reviewer: User,
    answer_id: int,
    data: ReviewCreate,
    now: datetime | None = None,
) -> Review:
    """Record an expert's verdict and everything that follows from it, in one transaction."""
    now = now or utcnow()
    answer = lock_answer(session, answer_id)
    if not reviewer.is_expert_of(answer.topic_id):
        raise Forbidden("Only experts of this answer's topic may review it.")
    if answer.author_id == reviewer.id:
        raise SelfReview("Experts may not review their own answers.")
    topic = session.get_one(Topic, answer.topic_id)
    references = _references(session, topic.id, data.references)
    state_before = answer.state
    before = {"state": state_before, "correction": answer.correction}
    was_wrong = answer.state in WRONG_STATES

    review = Review(
        answer_id=answer.id,
        reviewer_id=reviewer.id,
        verdict=data.verdict,
        rationale=data.rationale,
        correction=data.correction,
        references=references,
        answer_revision=answer.revision,
        created_at=now,
    )
    session.add(review)
    session.flush()
    refresh_validation(session, answer, topic, now)
    answer.reviewed_at = now
    _resolve_flags(session, answer, now)
    sync_question_status(session, answer.question_id)
    _award_for_review(session, reviewer, answer, state_before, now)
    changes = after_review(session, settings, answer, was_wrong, now)
    enqueue_thread(session, answer.question_id)
    if answer.state == ValidationState.endorsed and answer.stale_at is not None:
        # The thread stops counting as validated then: its document must say so.
        enqueue_thread(session, answer.question_id, not_before=answer.stale_at)
    session.flush()

    # Audit last: the chain head is the final lock this transaction takes.
    audit.record(
        session,
        ctx,
        "review.create",
        target_type="answer",
        target_id=answer.id,
        payload={
            "review_id": review.id,
            "verdict": str(data.verdict),
            "rationale": data.rationale,
            "correction": data.correction,
            "references": references,
            "answer_revision": answer.revision,
            "before": before,
            "after": {"state": answer.state, "correction": answer.correction},
        },
    )
    record_changes(session, ctx, changes)
    return review


@dataclass(frozen=True)
class ReviewOutcome:
    """What a confirmation tells the reviewer: the thread, and the answer's state now."""

    question_id: int
    question_title: str
    state: str


def review_outcome(session: Session, review: Review) -> ReviewOutcome:
    """The reviewed answer's thread and state after `review`, in one query."""
    question_id, title, state = session.execute(
        select(Question.id, Question.title, Answer.state)
        .join(Answer, Answer.question_id == Question.id)
        .where(Answer.id == review.answer_id)
    ).one()
    return ReviewOutcome(question_id, title, state)


def _award_for_review(
    session: Session, reviewer: User, answer: Answer, state_before: str, now: datetime
) -> None:
    award(session, reviewer.id, answer.topic_id, "review.done", answer.id, now)
    # Each outcome pays once per answer: re-endorsing after an edit earns nothing new.
    for state, reason in (
        (ValidationState.endorsed, "answer.endorsed"),
        (ValidationState.corrected, "answer.corrected"),
    ):
        if (
            answer.state == state
            and state_before != state
            and not already_awarded(session, answer.id, reason)
        ):
            award(session, answer.author_id, answer.topic_id, reason, answer.id, now)


def _resolve_flags(session: Session, answer: Answer, now: datetime) -> None:
    if answer.open_flags:
        session.execute(
            update(Flag)
            .where(Flag.answer_id == answer.id, Flag.resolved_at.is_(None))
            .values(resolved_at=now)
        )
        answer.open_flags = 0


def after_answer_change(session: Session, answer: Answer, now: datetime | None = None) -> None:
    """After an edit or a deletion: the verdicts were about the old text, so the answer is
    unreviewed again, and its thread's status and signal flag follow."""
    now = now or utcnow()
    topic = session.get_one(Topic, answer.topic_id)
    refresh_validation(session, answer, topic, now)
    if answer.state == ValidationState.unreviewed:
        answer.reviewed_at = None
    sync_question_status(session, answer.question_id)
    sync_thread_flag(session, answer.question_id)


def flag_answer(
    session: Session, ctx: AuditContext, user: User, answer_id: int, reason: str
) -> Flag:
    answer = lock_answer(session, answer_id)
    existing = session.execute(
        select(Flag.id).where(
            Flag.answer_id == answer.id, Flag.user_id == user.id, Flag.resolved_at.is_(None)
        )
    ).first()
    if existing:
        raise Conflict("You have already flagged this answer; an expert will look at it.")
    flag = Flag(answer_id=answer.id, user_id=user.id, reason=reason)
    session.add(flag)
    answer.open_flags += 1
    session.flush()
    audit.record(
        session,
        ctx,
        "flag.create",
        target_type="answer",
        target_id=answer.id,
        payload={"flag_id": flag.id, "reason": reason, "open_flags": answer.open_flags},
    )
    return flag
