"""Reviewing and flagging answers; the effects of a verdict on everything around it."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from app.answers.models import Answer, ValidationState
from app.audit import service as audit
from app.audit.service import AuditContext, Event
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, SelfReview
from app.notifications.models import NotificationKind
from app.notifications.service import News, notify, notify_many
from app.outbox.service import enqueue_threads
from app.questions.models import Question, QuestionStatus
from app.recognition.service import Award, already_awarded, award_many
from app.resources.models import Resource
from app.reviews.models import Flag, Review
from app.reviews.schemas import ReviewCreate
from app.reviews.state import VALIDATED_STATES, WRONG_STATES, ReviewFact, stale_at, validate
from app.signals.service import (
    SignalChange,
    after_review,
    signal_events,
    signal_news,
    sync_thread_flag,
)
from app.topics.models import Topic
from app.users.models import User


def lock_answer(session: Session, answer_id: int) -> Answer:
    """The live answer, row-locked so concurrent reviews of it apply one after another."""
    return _lock_answers(session, [answer_id])[0][answer_id]


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
    refresh_validations(session, [answer], {topic.id: topic}, now)


def refresh_validations(
    session: Session, answers: list[Answer], topics: dict[int, Topic], now: datetime
) -> None:
    """`refresh_validation` of many answers, their reviews read in one query."""
    facts: dict[int, list[ReviewFact]] = {a.id: [] for a in answers}
    revision = {a.id: a.revision for a in answers}
    reviews = session.execute(
        select(Review).where(Review.answer_id.in_(list(facts))).order_by(Review.id)
    ).scalars()
    for r in reviews:
        if r.answer_revision == revision[r.answer_id]:
            facts[r.answer_id].append(
                ReviewFact(r.verdict, r.reviewer_id, r.created_at, r.correction)
            )
    for answer in answers:
        topic = topics[answer.topic_id]
        result = validate(facts[answer.id], topic.required_endorsements)
        if result.state in VALIDATED_STATES and answer.state not in VALIDATED_STATES:
            answer.validated_at = now
        elif result.state not in VALIDATED_STATES:
            answer.validated_at = None
        answer.state = result.state
        answer.correction = result.correction
        answer.last_endorsed_at = result.last_endorsed_at
        answer.stale_at = stale_at(result.last_endorsed_at, topic.review_interval_days)


def sync_question_status(session: Session, question_ids: Iterable[int]) -> None:
    """`resolved` while a thread has a live endorsed or corrected answer, else `open`; a
    closed question stays closed. One statement, which writes only the questions whose
    status changes."""
    ids = sorted(set(question_ids))
    if not ids:
        return
    validated = (
        select(Answer.id)
        .where(
            Answer.question_id == Question.id,
            Answer.deleted_at.is_(None),
            Answer.state.in_([str(s) for s in VALIDATED_STATES]),
        )
        .exists()
    )
    status = case((validated, str(QuestionStatus.resolved)), else_=str(QuestionStatus.open))
    session.execute(
        update(Question)
        .where(
            Question.id.in_(ids),
            Question.status != QuestionStatus.closed,
            Question.status != status,
        )
        .values(status=status)
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
    return create_reviews(session, settings, ctx, reviewer, [(answer_id, data)], now)[0]


def create_reviews(
    session: Session,
    settings: Settings,
    ctx: AuditContext,
    reviewer: User,
    verdicts: list[tuple[int, ReviewCreate]],
    now: datetime | None = None,
    *,
    announce: bool = True,
) -> list[Review]:
    """One expert's verdicts on several answers (each answer once), all in the caller's
    transaction, with every effect `create_review` has; the learning-need signals follow
    the counts once all of them are in. A verdict the rules refuse refuses them all.
    The answers' authors (and the topics' experts, of a signal) hear of it unless
    `announce` is off (an import's accepted answers are not news)."""
    now = now or utcnow()
    ids = [answer_id for answer_id, _ in verdicts]
    if len(set(ids)) != len(ids):
        raise ValueError("create_reviews takes one verdict per answer")
    if not verdicts:
        return []
    answers, topics = _lock_answers(session, ids)
    for answer in answers.values():
        if not reviewer.is_expert_of(answer.topic_id):
            raise Forbidden("Only experts of this answer's topic may review it.")
        if answer.author_id == reviewer.id:
            raise SelfReview("Experts may not review their own answers.")
    references = {
        answer_id: _references(session, answers[answer_id].topic_id, data.references)
        for answer_id, data in verdicts
    }
    before = {a.id: {"state": a.state, "correction": a.correction} for a in answers.values()}
    reviews = [
        Review(
            answer_id=answer_id,
            reviewer_id=reviewer.id,
            verdict=data.verdict,
            rationale=data.rationale,
            correction=data.correction,
            references=references[answer_id],
            answer_revision=answers[answer_id].revision,
            created_at=now,
        )
        for answer_id, data in verdicts
    ]
    session.add_all(reviews)
    session.flush()
    reviewed = [answers[answer_id] for answer_id in ids]
    refresh_validations(session, reviewed, topics, now)
    for answer in reviewed:
        answer.reviewed_at = now
    _resolve_flags(session, reviewed, now)
    threads = {a.question_id for a in reviewed}
    sync_question_status(session, threads)
    _award_for_reviews(session, reviewer, reviewed, before, now)
    was_wrong = {a.id: before[a.id]["state"] in WRONG_STATES for a in reviewed}
    changes = after_review(session, settings, reviewed, was_wrong, now)
    enqueue_threads(session, sorted(threads))
    # An endorsed thread stops counting as validated when the endorsement goes stale: its
    # document must say so then.
    going_stale: dict[datetime, list[int]] = {}
    for answer in reviewed:
        if answer.state == ValidationState.endorsed and answer.stale_at is not None:
            going_stale.setdefault(answer.stale_at, []).append(answer.question_id)
    for at, question_ids in going_stale.items():
        enqueue_threads(session, question_ids, not_before=at)
    if announce:
        notify_many(session, _news(reviewer, reviews, answers, changes))
    session.flush()

    # Audit last: the chain head is the final lock this transaction takes.
    events = [
        Event(
            "review.create",
            "answer",
            review.answer_id,
            {
                "review_id": review.id,
                "verdict": str(data.verdict),
                "rationale": data.rationale,
                "correction": data.correction,
                "references": review.references,
                "answer_revision": review.answer_revision,
                "before": before[review.answer_id],
                "after": {
                    "state": answers[review.answer_id].state,
                    "correction": answers[review.answer_id].correction,
                },
            },
        )
        for review, (_, data) in zip(reviews, verdicts, strict=True)
    ]
    audit.record_many(session, ctx, events + signal_events(changes))
    return reviews


def _news(
    reviewer: User,
    reviews: list[Review],
    answers: dict[int, Answer],
    changes: list[SignalChange],
) -> list[News]:
    """The authors hear the verdicts; the experts, of a signal opened or reopened, and
    (when it comes) of an endorsement going stale."""
    news = []
    for review in reviews:
        answer = answers[review.answer_id]
        if answer.state == ValidationState.endorsed and answer.stale_at is not None:
            news.append(
                News(
                    NotificationKind.endorsement_stale,
                    answer.topic_id,
                    answer.question_id,
                    answer.id,
                    payload={"stale_at": answer.stale_at.isoformat()},
                    not_before=answer.stale_at,
                )
            )
        verdict = {"verdict": str(review.verdict), "rationale": review.rationale}
        if review.correction:
            verdict["correction"] = review.correction
        news.append(
            News(
                NotificationKind.answer_reviewed,
                answer.topic_id,
                answer.question_id,
                answer.id,
                actor_id=reviewer.id,
                recipient_id=answer.author_id,
                payload=verdict,
            )
        )
    return news + [signal_news(change) for change in changes]


def _lock_answers(
    session: Session, answer_ids: list[int]
) -> tuple[dict[int, Answer], dict[int, Topic]]:
    """The live answers, row-locked in id order (so that two callers cannot deadlock),
    with their topics (read in the same statement, not locked); NotFound names the first
    answer that is missing."""
    answers: dict[int, Answer] = {}
    topics: dict[int, Topic] = {}
    for answer, topic in session.execute(
        select(Answer, Topic)
        .join(Question, Answer.question_id == Question.id)
        .join(Topic, Topic.id == Answer.topic_id)
        .where(
            Answer.id.in_(answer_ids),
            Answer.deleted_at.is_(None),
            Question.deleted_at.is_(None),
        )
        .order_by(Answer.id)
        .with_for_update(of=Answer)
    ):
        answers[answer.id] = answer
        topics[topic.id] = topic
    for answer_id in answer_ids:
        if answer_id not in answers:
            raise NotFound(f"No answer with id {answer_id}.")
    return answers, topics


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


def _award_for_reviews(
    session: Session,
    reviewer: User,
    answers: list[Answer],
    before: dict[int, dict[str, Any]],
    now: datetime,
) -> None:
    awards = [Award(reviewer.id, a.topic_id, "review.done", a.id) for a in answers]
    # Each outcome pays once per answer: re-endorsing after an edit earns nothing new.
    for state, reason in (
        (ValidationState.endorsed, "answer.endorsed"),
        (ValidationState.corrected, "answer.corrected"),
    ):
        reached = [a for a in answers if a.state == state and before[a.id]["state"] != state]
        paid = already_awarded(session, [a.id for a in reached], reason)
        awards += [
            Award(a.author_id, a.topic_id, reason, a.id) for a in reached if a.id not in paid
        ]
    award_many(session, awards, now)


def _resolve_flags(session: Session, answers: list[Answer], now: datetime) -> None:
    flagged = [a for a in answers if a.open_flags]
    if flagged:
        session.execute(
            update(Flag)
            .where(Flag.answer_id.in_([a.id for a in flagged]), Flag.resolved_at.is_(None))
            .values(resolved_at=now)
        )
        for answer in flagged:
            answer.open_flags = 0


def after_answer_change(session: Session, answer: Answer, now: datetime | None = None) -> None:
    """After an edit or a deletion: the verdicts were about the old text, so the answer is
    unreviewed again, and its thread's status and signal flag follow."""
    now = now or utcnow()
    topic = session.get_one(Topic, answer.topic_id)
    refresh_validation(session, answer, topic, now)
    if answer.state == ValidationState.unreviewed:
        answer.reviewed_at = None
    sync_question_status(session, [answer.question_id])
    sync_thread_flag(session, [answer.question_id])


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
    notify(
        session,
        NotificationKind.flag_new,
        topic_id=answer.topic_id,
        question_id=answer.question_id,
        answer_id=answer.id,
        actor_id=user.id,
        payload={"reason": reason},
    )
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
