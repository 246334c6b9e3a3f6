"""Learning-need signals, kept up to date as reviews happen.

Each review that changes an answer's state re-counts its thread and its topic
(indexed counts over one thread, and over one topic's reviewed answers in the
window), so listing signals never scans answers.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select, union_all, update
from sqlalchemy.orm import Session, selectinload

from app.answers.models import Answer
from app.audit import service as audit
from app.audit.service import AuditContext, Event
from app.config import Settings
from app.errors import Conflict, Forbidden, NotFound
from app.notifications.models import NotificationKind
from app.notifications.service import News
from app.outbox.service import enqueue_thread
from app.pagination import decode_cursor
from app.questions.models import Question
from app.reviews.state import WRONG_STATES
from app.signals.models import LearningNeed, LearningNeedEvent, SignalKind, SignalStatus
from app.topics.models import Topic
from app.users.models import Role, User

_WRONG = [str(s) for s in WRONG_STATES]
# Topic signals have no thread; 0 keeps the (kind, topic, question) unique index effective.
NO_QUESTION = 0


@dataclass
class SignalChange:
    """An audit event owed for a signal change, recorded by the caller at the end."""

    action: str
    need: LearningNeed
    payload: dict[str, Any] = field(default_factory=dict)


def _counts_of(key: Any, keys: Iterable[int], *conditions: Any) -> Any:
    """(key, wrong, reviewed) answers for each of `keys` of column `key` (a thread's, a
    topic's)."""
    return (
        select(
            key.label("key"),
            func.coalesce(func.sum(case((Answer.state.in_(_WRONG), 1), else_=0)), 0),
            func.count(Answer.id),
        )
        .where(
            key.in_(sorted(set(keys))),
            Answer.reviewed_at.is_not(None),
            Answer.deleted_at.is_(None),
            *conditions,
        )
        .group_by(key)
    )


def _counts(
    session: Session, threads: Iterable[int], topics: Iterable[int], since: datetime
) -> tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]]:
    """(wrong, reviewed) answers of each thread, and of each topic since `since`: one
    statement for both."""
    found = session.execute(
        union_all(
            _counts_of(Answer.question_id, threads).add_columns(literal(str(SignalKind.thread))),
            _counts_of(Answer.topic_id, topics, Answer.reviewed_at >= since).add_columns(
                literal(str(SignalKind.topic))
            ),
        )
    )
    counted: dict[str, dict[int, tuple[int, int]]] = {SignalKind.thread: {}, SignalKind.topic: {}}
    for key, wrong, reviewed, kind in found:
        counted[kind][key] = (int(wrong), int(reviewed))
    return counted[SignalKind.thread], counted[SignalKind.topic]


def _find(
    session: Session, threads: dict[int, int], topics: set[int]
) -> dict[tuple[str, int, int], LearningNeed]:
    """The signals of these threads (question id → topic id) and topics that exist, by
    (kind, topic id, question id), row-locked in id order; one statement for both."""
    wanted = {(str(SignalKind.thread), t, q) for q, t in threads.items()} | {
        (str(SignalKind.topic), t, NO_QUESTION) for t in topics
    }
    found = session.execute(
        select(LearningNeed)
        .where(
            or_(
                and_(
                    LearningNeed.kind == SignalKind.thread,
                    LearningNeed.question_id.in_(sorted(threads)),
                ),
                and_(
                    LearningNeed.kind == SignalKind.topic,
                    LearningNeed.topic_id.in_(sorted(topics)),
                    LearningNeed.question_id == NO_QUESTION,
                ),
            )
        )
        .order_by(LearningNeed.id)
        .with_for_update()
    ).scalars()
    return {
        key: need
        for need in found
        if (key := (str(need.kind), need.topic_id, need.question_id)) in wanted
    }


def _step(
    session: Session,
    need: LearningNeed,
    status: str,
    note: str,
    actor_id: int | None,
    now: datetime,
) -> None:
    need.status, need.updated_at = status, now
    session.add(
        LearningNeedEvent(
            learning_need_id=need.id,
            status=status,
            note=note,
            actor_id=actor_id,
            wrong_count=need.wrong_count,
            reviewed_count=need.reviewed_count,
            at=now,
        )
    )


def _update_signal(
    session: Session,
    need: LearningNeed | None,
    kind: str,
    topic_id: int,
    question_id: int,
    counts: tuple[int, int],
    triggered: bool,
    new_wrong_answer: bool,
    now: datetime,
) -> SignalChange | None:
    wrong, reviewed = counts
    if need is None:
        if not triggered:
            return None
        need = LearningNeed(
            kind=kind,
            topic_id=topic_id,
            question_id=question_id,
            status=SignalStatus.open,
            wrong_count=wrong,
            reviewed_count=reviewed,
            opened_at=now,
            updated_at=now,
        )
        session.add(need)
        session.flush()
        _step(session, need, SignalStatus.open, "", None, now)
        return SignalChange("learning_need.open", need, {"wrong": wrong, "reviewed": reviewed})
    need.wrong_count, need.reviewed_count, need.updated_at = wrong, reviewed, now
    if need.status == SignalStatus.addressed and new_wrong_answer and triggered:
        need.opened_at = now
        _step(session, need, SignalStatus.open, "a new wrong answer", None, now)
        return SignalChange("learning_need.reopen", need, {"wrong": wrong, "reviewed": reviewed})
    return None


def after_review(
    session: Session,
    settings: Settings,
    answers: list[Answer],
    was_wrong: dict[int, bool],
    now: datetime,
) -> list[SignalChange]:
    """Re-count the reviewed answers' threads and topics (once each, after all the
    reviews); open or reopen their signals as the rules say."""
    threads = {a.question_id: a.topic_id for a in answers}
    newly_wrong = [a for a in answers if a.state in WRONG_STATES and not was_wrong[a.id]]
    wrong_threads = {a.question_id for a in newly_wrong}
    wrong_topics = {a.topic_id for a in newly_wrong}
    changes: list[SignalChange] = []

    topics = set(threads.values())
    since = now - timedelta(days=settings.topic_window_days)
    thread_counts, topic_counts = _counts(session, threads, topics, since)
    needs = _find(session, threads, topics)
    for question_id, topic_id in sorted(threads.items()):
        counts = thread_counts.get(question_id, (0, 0))
        change = _update_signal(
            session,
            needs.get((SignalKind.thread, topic_id, question_id)),
            SignalKind.thread,
            topic_id,
            question_id,
            counts,
            counts[0] >= settings.wrong_answer_threshold,
            question_id in wrong_threads,
            now,
        )
        if change:
            changes.append(change)

    for topic_id in sorted(topics):
        wrong, reviewed = topic_counts.get(topic_id, (0, 0))
        triggered = (
            reviewed >= settings.topic_min_reviewed
            and wrong >= settings.topic_wrong_rate * reviewed
        )
        change = _update_signal(
            session,
            needs.get((SignalKind.topic, topic_id, NO_QUESTION)),
            SignalKind.topic,
            topic_id,
            NO_QUESTION,
            (wrong, reviewed),
            triggered,
            topic_id in wrong_topics,
            now,
        )
        if change:
            changes.append(change)
    # A thread's flag moves only with its signal's status, which a review changes only by
    # opening or reopening it (the other moves are `transition`'s, which mirrors them).
    sync_thread_flag(
        session, {c.need.question_id for c in changes if c.need.kind == SignalKind.thread}
    )
    return changes


def sync_thread_flag(session: Session, question_ids: Iterable[int]) -> None:
    """Mirror "this thread has an unaddressed learning need" onto each question (for
    search)."""
    ids = sorted(set(question_ids))
    if not ids:
        return
    flagged = set(
        session.execute(
            select(LearningNeed.question_id).where(
                LearningNeed.kind == SignalKind.thread,
                LearningNeed.question_id.in_(ids),
                LearningNeed.status.in_([SignalStatus.open, SignalStatus.acknowledged]),
            )
        ).scalars()
    )
    for value, chosen in (
        (True, [i for i in ids if i in flagged]),
        (False, [i for i in ids if i not in flagged]),
    ):
        if chosen:
            session.execute(
                update(Question).where(Question.id.in_(chosen)).values(has_learning_need=value)
            )


def get_need(session: Session, need_id: int) -> LearningNeed:
    need = session.execute(
        select(LearningNeed).where(LearningNeed.id == need_id).with_for_update()
    ).scalar_one_or_none()
    if need is None:
        raise NotFound(f"No learning need with id {need_id}.")
    return need


def may_handle(user: User, topic_id: int) -> bool:
    """Whether `user` may acknowledge or address the learning needs of a topic: an expert
    of that topic, or an admin."""
    return Role.admin in user.roles or user.is_expert_of(topic_id)


def _check_may_handle(user: User, need: LearningNeed) -> None:
    if not may_handle(user, need.topic_id):
        raise Forbidden("Only an expert of this topic or an admin may handle its learning needs.")


TRANSITIONS = {
    "acknowledge": ({SignalStatus.open}, SignalStatus.acknowledged),
    "address": ({SignalStatus.open, SignalStatus.acknowledged}, SignalStatus.addressed),
}


def signal_events(changes: list[SignalChange]) -> list[Event]:
    """The audit events owed for signal changes."""
    return [
        Event(
            change.action,
            "learning_need",
            change.need.id,
            {
                "kind": change.need.kind,
                "topic_id": change.need.topic_id,
                "question_id": change.need.question_id or None,
                **change.payload,
            },
        )
        for change in changes
    ]


def signal_news(change: SignalChange) -> News:
    """The experts of the topic hear of a signal opened or reopened."""
    need = change.need
    return News(
        NotificationKind.learning_need,
        need.topic_id,
        need.question_id or None,
        payload={
            "signal_id": need.id,
            "kind": need.kind,
            "reopened": change.action == "learning_need.reopen",
            **change.payload,
        },
    )


def record_changes(session: Session, ctx: AuditContext, changes: list[SignalChange]) -> None:
    """Write the audit events owed for signal changes; called last, after every row lock."""
    audit.record_many(session, ctx, signal_events(changes))


def transition(
    session: Session,
    ctx: AuditContext,
    user: User,
    need: LearningNeed,
    step: str,
    note: str,
    now: datetime,
) -> None:
    """Acknowledge or address a signal, with a note; 409 when it is not in a state to."""
    _check_may_handle(user, need)
    allowed_from, target = TRANSITIONS[step]
    if need.status not in allowed_from:
        raise Conflict(f"This learning need is {need.status}; it cannot be {target} now.")
    before = need.status
    _step(session, need, target, note, user.id, now)
    if need.kind == SignalKind.thread:
        sync_thread_flag(session, [need.question_id])
        enqueue_thread(session, need.question_id)  # the thread's learning-need flag changed
    session.flush()
    record_changes(
        session,
        ctx,
        [
            SignalChange(
                f"learning_need.{step}",
                need,
                {"before": {"status": before}, "after": {"status": target}, "note": note},
            )
        ],
    )


def list_needs(
    session: Session,
    *,
    limit: int,
    cursor: str | None,
    topic_id: int | None,
    status: str | None,
    kind: str | None,
) -> list[LearningNeed]:
    """Newest signal first; costs the number of signals listed, whatever the answers."""
    after = decode_cursor(cursor)
    query = (
        select(LearningNeed)
        .options(selectinload(LearningNeed.history))
        .order_by(LearningNeed.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(LearningNeed.id < after)
    if topic_id is not None:
        query = query.where(LearningNeed.topic_id == topic_id)
    if status is not None:
        query = query.where(LearningNeed.status == status)
    if kind is not None:
        query = query.where(LearningNeed.kind == kind)
    return list(session.execute(query).scalars())


def labels(session: Session, needs: list[LearningNeed]) -> tuple[dict[int, str], dict[int, str]]:
    """Topic slugs and thread titles for the listed signals, in two queries in all."""
    topic_ids = {n.topic_id for n in needs}
    question_ids = {n.question_id for n in needs if n.question_id}
    slugs: dict[int, str] = {}
    titles: dict[int, str] = {}
    if topic_ids:
        rows = session.execute(select(Topic.id, Topic.slug).where(Topic.id.in_(topic_ids)))
        slugs = {topic_id: slug for topic_id, slug in rows}
    if question_ids:
        rows = session.execute(
            select(Question.id, Question.title).where(Question.id.in_(question_ids))
        )
        titles = {question_id: title for question_id, title in rows}
    return slugs, titles


@dataclass(frozen=True)
class NeedLabels:
    """What a page shows beside listed signals: their topics, thread titles and the people
    who took their steps."""

    topics: dict[int, Topic]
    titles: dict[int, str]
    actors: dict[int, User]


def page_labels(session: Session, needs: list[LearningNeed]) -> NeedLabels:
    """Topics, thread titles and step actors of the listed signals (their history loaded),
    in three queries at most."""
    topic_ids = {n.topic_id for n in needs}
    question_ids = {n.question_id for n in needs if n.question_id}
    actor_ids = {step.actor_id for n in needs for step in n.history if step.actor_id}
    topics: dict[int, Topic] = {}
    titles: dict[int, str] = {}
    actors: dict[int, User] = {}
    if topic_ids:
        topics = {
            t.id: t for t in session.execute(select(Topic).where(Topic.id.in_(topic_ids))).scalars()
        }
    if question_ids:
        rows = session.execute(
            select(Question.id, Question.title).where(Question.id.in_(question_ids))
        )
        titles = {question_id: title for question_id, title in rows}
    if actor_ids:
        actors = {
            u.id: u for u in session.execute(select(User).where(User.id.in_(actor_ids))).scalars()
        }
    return NeedLabels(topics, titles, actors)
