"""Several verdicts in one call (`create_reviews`, the importer's way) end where the same
verdicts one request at a time end: states, flags, statuses, reputation, signals, audit."""

from collections import Counter
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.audit.models import AuditEvent
from app.audit.service import Actor, AuditContext
from app.config import Settings
from app.db import Database, session_scope
from app.errors import NotFound, SelfReview
from app.outbox.models import OutboxEntry
from app.reviews.schemas import ReviewCreate
from app.reviews.service import create_reviews
from app.users.models import User
from tests.factories import People, Person, answer, ask, count_rows, flag, review, thread

VERDICTS: list[dict[str, Any]] = [
    {"verdict": "reject", "rationale": "Most policies carry a glass excess."},
    {
        "verdict": "correct",
        "rationale": "Cover depends on the policy.",
        "correction": "Windscreen cover is optional; check the schedule.",
    },
    {"verdict": "endorse", "rationale": "Exactly what the policy says."},
]


def scenario(client: TestClient, people: People, topic: str) -> dict[str, Any]:
    """Two threads of `topic`: the first with two answers (one flagged), the second one."""
    expert = people.make("expert", topics=(topic,))
    first_rep, second_rep, asker = people.make("rep"), people.make("rep"), people.make("rep")
    q1, q2 = ask(client, asker, topic), ask(client, asker, topic)
    a1 = answer(client, first_rep, q1["id"], "Glass claims never have an excess.")
    a2 = answer(client, second_rep, q1["id"], "Windscreens are not covered at all.")
    a3 = answer(client, first_rep, q2["id"], "Claims go through the portal.")
    flag(client, asker, a1["id"])
    return {
        "expert": expert,
        "reps": (first_rep, second_rep),
        "asker": asker,
        "questions": (q1["id"], q2["id"]),
        "answers": (a1["id"], a2["id"], a3["id"]),
    }


def as_reviewer(session: Session, person: Person) -> tuple[User, AuditContext]:
    """The expert as the service takes them: with their topics, and their audit context."""
    user = session.get_one(User, person.id, options=[selectinload(User.expert_topics)])
    return user, AuditContext(actor=Actor(user.id, user.username, tuple(user.roles)))


def outcome(client: TestClient, case: dict[str, Any]) -> dict[str, Any]:
    """What the people of a scenario can see once its verdicts are in."""
    reader: Person = case["asker"]
    threads = [thread(client, reader, q) for q in case["questions"]]
    signals = client.get(
        "/learning-needs", params={"kind": "thread"}, headers=reader.headers
    ).json()["items"]
    mine = [s for s in signals if s["question_id"] in case["questions"]]
    me = [
        client.get("/me", headers=p.headers).json()["reputation"]
        for p in (case["expert"], *case["reps"])
    ]
    return {
        "statuses": [t["question"]["status"] for t in threads],
        "answers": [
            (a["state"], a["correction"], a["open_flags"]) for t in threads for a in t["answers"]
        ],
        "signals": [(s["status"], s["wrong_count"], s["reviewed_count"]) for s in mine],
        "reputation": me,
    }


def test_many_verdicts_in_one_call_end_as_the_same_verdicts_one_by_one(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    single, bulk = scenario(client, people, "claims"), scenario(client, people, "glass")
    for answer_id, verdict in zip(single["answers"], VERDICTS, strict=True):
        review(client, single["expert"], answer_id, **verdict)
    single_seen = outcome(client, single)

    with session_scope(db) as session:
        expert, ctx = as_reviewer(session, bulk["expert"])
        first_seq = session.execute(select(AuditEvent.seq).order_by(AuditEvent.seq.desc())).scalar()
        verdicts = [
            (answer_id, ReviewCreate.model_validate(v))
            for answer_id, v in zip(bulk["answers"], VERDICTS, strict=True)
        ]
        reviews = create_reviews(session, settings, ctx, expert, verdicts)
        assert [r.answer_id for r in reviews] == list(bulk["answers"])
        assert all(r.id for r in reviews)
    bulk_seen = outcome(client, bulk)

    assert bulk_seen == single_seen
    assert bulk_seen["statuses"] == ["resolved", "resolved"]
    assert bulk_seen["signals"] == [("open", 2, 2)]
    with session_scope(db) as session:
        actions = Counter(
            session.execute(select(AuditEvent.action).where(AuditEvent.seq > first_seq)).scalars()
        )
        assert actions == {"review.create": 3, "learning_need.open": 1}
        queued = set(session.execute(select(OutboxEntry.question_id)).scalars())
        assert set(bulk["questions"]) <= queued
    verified = client.get("/audit/verify", headers=people.make("compliance").headers)
    assert verified.status_code == 200 and verified.json()["ok"] is True


@pytest.mark.parametrize("refused", ["own answer", "missing answer"])
def test_one_refused_verdict_refuses_them_all(
    client: TestClient, people: People, db: Database, settings: Settings, refused: str
) -> None:
    case = scenario(client, people, "claims")
    expert: Person = case["expert"]
    question = case["questions"][1]
    extra = 10**9 if refused == "missing answer" else answer(client, expert, question)["id"]
    before = count_rows(db)
    error = NotFound if refused == "missing answer" else SelfReview
    with pytest.raises(error), session_scope(db) as session:
        user, ctx = as_reviewer(session, expert)
        endorse = ReviewCreate.model_validate(VERDICTS[2])
        verdicts = [(a, endorse) for a in (*case["answers"], extra)]
        create_reviews(session, settings, ctx, user, verdicts)
    assert count_rows(db) == before
    states = [a["state"] for q in case["questions"] for a in thread(client, expert, q)["answers"]]
    assert set(states) == {"unreviewed"}


def test_an_answer_twice_in_one_call_is_a_programming_error(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    case = scenario(client, people, "claims")
    with session_scope(db) as session:
        user, ctx = as_reviewer(session, case["expert"])
        endorse = ReviewCreate.model_validate(VERDICTS[2])
        first = case["answers"][0]
        with pytest.raises(ValueError, match="one verdict per answer"):
            create_reviews(session, settings, ctx, user, [(first, endorse), (first, endorse)])
