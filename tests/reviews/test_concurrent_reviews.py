"""Two experts reviewing the same answer at the same moment, over real HTTP: each review
either succeeds or gets a clean 409, and what is stored agrees with the audit trail."""

import threading

import httpx
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import People, answer, ask, thread
from tests.support.live_server import live_server

ROUNDS = 12
REQUIRED_ENDORSEMENTS = 2
# What each of the two experts says about the answer of a round, cycled over the rounds.
VERDICT_PAIRS = [
    ("endorse", "endorse"),
    ("endorse", "reject"),
    ("correct", "endorse"),
    ("reject", "correct"),
]
BODIES = {
    "endorse": {"verdict": "endorse"},
    "reject": {"verdict": "reject", "rationale": "Not what the policy says."},
    "correct": {"verdict": "correct", "rationale": "Close.", "correction": "Exactly this."},
}


def replay(events: list[AuditEvent]) -> str:
    """The state the rules give for these `review.create` events, in order."""
    state, endorsers = "unreviewed", set[int | None]()
    for event in events:
        verdict = event.payload["verdict"]
        if verdict == "endorse":
            endorsers.add(event.actor_id)
            enough = len(endorsers) >= REQUIRED_ENDORSEMENTS
            state = "endorsed" if enough else "awaiting_endorsement"
        else:
            state, endorsers = {"reject": "rejected", "correct": "corrected"}[verdict], set()
    return state


def test_simultaneous_reviews_of_one_answer_agree_with_the_audit_trail(
    settings: Settings, db: Database, people: People
) -> None:
    client = people.client
    people.topic("claims", required_endorsements=REQUIRED_ENDORSEMENTS)
    experts = [people.make("expert", topics=("claims",)) for _ in range(2)]
    rep = people.make("rep")
    question = ask(client, rep, "claims")["id"]
    answers = [answer(client, rep, question, f"Answer {n}.")["id"] for n in range(ROUNDS)]
    barrier = threading.Barrier(len(experts))
    outcomes: dict[tuple[int, int], httpx.Response] = {}
    crashes: list[BaseException] = []

    def reviewer(index: int, base: str) -> None:
        try:
            with httpx.Client(
                base_url=f"{base}/api/v1", headers=experts[index].headers, timeout=60
            ) as http:
                for n, answer_id in enumerate(answers):
                    verdict = VERDICT_PAIRS[n % len(VERDICT_PAIRS)][index]
                    barrier.wait(timeout=60)
                    outcomes[n, index] = http.post(
                        f"/answers/{answer_id}/reviews", json=BODIES[verdict]
                    )
        except BaseException as exc:  # surfaced below, not lost in the thread
            barrier.abort()
            crashes.append(exc)

    with live_server(create_app(settings, db)) as base:
        threads = [threading.Thread(target=reviewer, args=(i, base)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    assert crashes == []
    for response in outcomes.values():
        assert response.status_code in (201, 409), response.text
        if response.status_code == 409:
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"].endswith("/conflict")

    shown = {a["id"]: a for a in thread(client, rep, question)["answers"]}
    with db.session(write=False) as session:
        for n, answer_id in enumerate(answers):
            accepted = [outcomes[n, i].json()["id"] for i in (0, 1) if outcomes[n, i].is_success]
            events = list(
                session.execute(
                    select(AuditEvent)
                    .where(
                        AuditEvent.action == "review.create",
                        AuditEvent.target_type == "answer",
                        AuditEvent.target_id == str(answer_id),
                    )
                    .order_by(AuditEvent.seq)
                ).scalars()
            )
            reviews = shown[answer_id]["reviews"]
            assert sorted(accepted) == [r["id"] for r in reviews]
            assert [e.payload["review_id"] for e in events] == [r["id"] for r in reviews]
            assert [e.actor_id for e in events] == [r["reviewer"]["id"] for r in reviews]
            # Each review saw the state the previous one left: none was applied on a stale read.
            states = ["unreviewed"] + [e.payload["after"]["state"] for e in events]
            assert [e.payload["before"]["state"] for e in events] == states[:-1]
            assert shown[answer_id]["state"] == states[-1] == replay(events), f"round {n}"
            assert shown[answer_id]["correction"] == events[-1].payload["after"]["correction"]
        report = verify_chain(session)
    assert report.ok, report.reason
