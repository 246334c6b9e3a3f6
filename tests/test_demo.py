"""`vouch demo`'s content, as its readers see it: every answer state, experts' queues with
flagged answers, learning needs, signposts and a spread leaderboard; audited throughout."""

from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.answers.models import ValidationState
from app.audit.service import Actor, AuditContext, read_head, verify_chain
from app.comments.models import Comment
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.demo import DEMO_TOPICS, DEMO_USERS, seed
from app.demo_content import DEMO_THREADS
from app.questions.models import Question
from app.questions.thread import Thread, load_thread
from app.recognition.service import leaderboard
from app.reviews.queue import review_queue
from app.signals.models import LearningNeed, SignalKind, SignalStatus
from app.users.models import User

CLI = AuditContext(actor=Actor(None, "cli:demo-test", ("system",)), user_agent="vouch-cli")


@pytest.fixture
def demo(db: Database, settings: Settings) -> Database:
    with session_scope(db) as session:
        assert seed(session, settings, CLI) is True
    return db


def threads(session: Session) -> list[Thread]:
    ids = session.execute(select(Question.id).order_by(Question.id)).scalars()
    return [load_thread(session, question_id) for question_id in ids]


def user(session: Session, username: str) -> User:
    return session.execute(
        select(User).options(selectinload(User.expert_topics)).where(User.username == username)
    ).scalar_one()


def test_the_demo_is_a_forum_with_every_answer_state(demo: Database) -> None:
    with demo.session(write=False) as session:
        loaded = threads(session)
    assert len(loaded) == len(DEMO_THREADS) >= 30
    states = Counter(answer.state for thread in loaded for answer in thread.answers)
    for state in ValidationState:
        assert states[state] >= 3, (state, states)
    assert {thread.question.topic for thread in loaded} == {t.slug for t in DEMO_TOPICS}
    assert all(thread.resources for thread in loaded)
    assert any(not thread.answers for thread in loaded)  # some are still unanswered
    corrected = [a for t in loaded for a in t.answers if a.state == ValidationState.corrected]
    assert all(a.correction and a.reviews[-1].rationale for a in corrected)
    rejected = [a for t in loaded for a in t.answers if a.state == ValidationState.rejected]
    assert all(a.reviews[-1].rationale for a in rejected)


def test_experts_find_flagged_answers_first_in_their_queues(demo: Database) -> None:
    with demo.session(write=False) as session:
        for expert in ("erin", "paul"):
            queue = review_queue(session, user(session, expert), utcnow(), 100, None)
            assert queue[0].reason == "flagged", expert
            assert queue[0].answer.state == ValidationState.unreviewed
        # Stale endorsements are back in the queue of the payments experts.
        priya = review_queue(session, user(session, "priya"), utcnow(), 100, None)
        assert "stale" in {entry.reason for entry in priya}


def test_learning_needs_one_open_and_one_acknowledged(demo: Database) -> None:
    with demo.session(write=False) as session:
        needs = list(session.execute(select(LearningNeed).order_by(LearningNeed.id)).scalars())
        assert [(n.kind, n.status, n.wrong_count) for n in needs] == [
            (SignalKind.thread, SignalStatus.open, 2),
            (SignalKind.thread, SignalStatus.acknowledged, 2),
        ]
        assert all(load_thread(session, n.question_id).learning_need for n in needs)


def test_reputation_is_spread_and_people_talk(demo: Database) -> None:
    with demo.session(write=False) as session:
        board = leaderboard(session, None, 20)
        assert board[0][0].username == "bob"
        assert len(board) >= 8
        assert len({points for _, points in board}) >= 6
        assert session.execute(select(func.count(Comment.id))).scalar_one() >= 5
        scores = [a.score for t in threads(session) for a in t.answers]
        assert max(scores) >= 3 and min(scores) < 0


def test_the_audit_chain_verifies_and_a_second_seed_adds_nothing(
    demo: Database, settings: Settings
) -> None:
    with demo.session(write=False) as session:
        report = verify_chain(session)
        assert report.ok, report.as_dict()
        head = read_head(session)
        users = session.execute(select(func.count(User.id))).scalar_one()
    assert users == len(DEMO_USERS)
    with session_scope(demo) as session:
        assert seed(session, settings, CLI) is False
    with demo.session(write=False) as session:
        assert read_head(session) == head
        assert session.execute(select(func.count(Question.id))).scalar_one() == len(DEMO_THREADS)
