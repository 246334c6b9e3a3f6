"""Sixteen experts reviewing in one topic at the same moment, over real HTTP: every
review lands, and no answer state, reputation total or signal count is lost to another
review's transaction."""

import threading
from collections import Counter

import httpx
from sqlalchemy import func, select

from app.answers.models import Answer
from app.audit.service import verify_chain
from app.config import Settings
from app.db import Database
from app.main import create_app
from app.recognition.models import ReputationEvent, TopicReputation
from app.signals.models import LearningNeed
from app.users.models import User
from tests.factories import People, answer, ask, reject
from tests.support.live_server import live_server

EXPERTS = 16
EACH = 4  # answers per expert, all in one thread of theirs
VERDICTS = ["endorse", "reject", "correct", "reject"]
BODIES = {
    "endorse": {"verdict": "endorse"},
    "reject": {"verdict": "reject", "rationale": "Not what the policy says."},
    "correct": {"verdict": "correct", "rationale": "Close.", "correction": "Exactly this."},
}
STATES = {"endorse": "endorsed", "reject": "rejected", "correct": "corrected"}
WRONG = ("rejected", "corrected")


def test_sixteen_reviewers_in_one_topic_lose_no_state_reputation_or_count(
    settings: Settings, db: Database, people: People
) -> None:
    client = people.client
    topic = people.topic("claims", required_endorsements=1)
    experts = [people.make("expert", topics=("claims",)) for _ in range(EXPERTS)]
    authors = [people.make("rep") for _ in range(EACH)]
    # The topic's signal is open before the rush (five wrong answers), so every review
    # below re-counts it.
    warm = ask(client, authors[0], topic)["id"]
    for n in range(5):
        reject(client, experts[0], answer(client, authors[n % EACH], warm, f"Wrong {n}.")["id"])
    work: list[list[tuple[int, str]]] = []
    for expert in range(EXPERTS):
        question = ask(client, authors[expert % EACH], topic)["id"]
        work.append(
            [
                (answer(client, authors[n], question, f"Answer {expert}.{n}.")["id"], VERDICTS[n])
                for n in range(EACH)
            ]
        )

    barrier = threading.Barrier(EXPERTS)
    statuses: Counter[int] = Counter()
    lock = threading.Lock()

    def review(index: int, base: str) -> None:
        with httpx.Client(
            base_url=f"{base}/api/v1", headers=experts[index].headers, timeout=60
        ) as http:
            barrier.wait(timeout=60)
            for answer_id, verdict in work[index]:
                response = http.post(f"/answers/{answer_id}/reviews", json=BODIES[verdict])
                with lock:
                    statuses[response.status_code] += 1

    with live_server(create_app(settings, db)) as base:
        threads = [threading.Thread(target=review, args=(i, base)) for i in range(EXPERTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert statuses == {201: EXPERTS * EACH}
    with db.session(write=False) as session:
        states = dict(session.execute(select(Answer.id, Answer.state)).tuples().all())
        for answer_id, verdict in (item for items in work for item in items):
            assert states[answer_id] == STATES[verdict]

        # Every signal's counts are the answers' as they now stand.
        reviewed = select(Answer).where(Answer.reviewed_at.is_not(None))
        answers = list(session.execute(reviewed).scalars())
        needs = list(session.execute(select(LearningNeed)).scalars())
        assert needs, "the rush opened no signal at all"
        for need in needs:
            mine = [a for a in answers if a.question_id == need.question_id or not need.question_id]
            wrong = sum(a.state in WRONG for a in mine)
            assert (need.wrong_count, need.reviewed_count) == (wrong, len(mine)), need.kind

        # Reputation: each total is the sum of its events; one review.done per review.
        events = select(ReputationEvent.user_id, func.sum(ReputationEvent.points)).group_by(
            ReputationEvent.user_id
        )
        earned = dict(session.execute(events).tuples().all())
        totals = dict(session.execute(select(User.id, User.reputation)).tuples().all())
        assert {u: totals[u] for u in earned} == earned
        in_topic = dict(
            session.execute(select(TopicReputation.user_id, TopicReputation.points)).tuples().all()
        )
        assert in_topic == earned
        done = select(func.count()).where(ReputationEvent.reason == "review.done")
        assert session.execute(done).scalar_one() == EXPERTS * EACH + 5
        assert verify_chain(session).ok
