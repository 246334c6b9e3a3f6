"""The review queue: what an expert should look at next, flagged first, then stale, then oldest."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.db import Database, session_scope, utcnow
from tests.factories import (
    People,
    Person,
    answer,
    ask,
    flag,
    reject,
    review,
    send_rejected,
    shown_answer,
)


def queue(client: TestClient, expert: Person, **params: Any) -> dict[str, Any]:
    response = client.get("/reviews/queue", params=params, headers=expert.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def queued_ids(client: TestClient, expert: Person) -> list[int]:
    return [item["answer_id"] for item in queue(client, expert, limit=100)["items"]]


def make_stale(db: Database, answer_id: int) -> None:
    """Backdate an endorsement past the topic's review interval.

    Staleness is a matter of days passing (`review_interval_days` is at least 1) and the
    API has no clock to move, so the test moves the endorsement into the past instead.
    """
    past = utcnow() - timedelta(days=31)
    with session_scope(db) as session:
        session.execute(
            update(Answer)
            .where(Answer.id == answer_id)
            .values(last_endorsed_at=past - timedelta(days=30), stale_at=past)
        )


def test_queue_lists_only_others_live_answers_in_my_topics(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    claims = ask(client, rep, "claims")["id"]
    motor = ask(client, rep, people.topic("motor"))["id"]
    wanted = answer(client, rep, claims, "Needs a look.")
    answer(client, rep, motor, "Another topic.")
    answer(client, expert, claims, "My own answer.")
    deleted = answer(client, rep, claims, "Withdrawn.")
    assert client.delete(f"/answers/{deleted['id']}", headers=rep.headers).status_code == 204

    assert queued_ids(client, expert) == [wanted["id"]]


def test_queue_leaves_out_answers_already_validated_or_judged_wrong(
    client: TestClient, people: People
) -> None:
    people.topic("claims", required_endorsements=2)
    expert, colleague, other = (people.make("expert", topics=("claims",)) for _ in range(3))
    rep = people.make("rep")
    question = ask(client, rep, "claims")["id"]
    unreviewed, awaiting, endorsed, corrected, rejected = (
        answer(client, rep, question, f"Answer {n}.")["id"] for n in range(5)
    )
    review(client, colleague, awaiting, "endorse")
    review(client, colleague, endorsed, "endorse")
    review(client, other, endorsed, "endorse")
    review(client, colleague, corrected, "correct", rationale="Close.", correction="Exact.")
    reject(client, colleague, rejected)

    assert queued_ids(client, expert) == [unreviewed, awaiting]


@dataclass
class Queue:
    """An expert's queue over seven answers in `claims`, and the order it must come in."""

    expert: Person
    expected: list[tuple[int, str, str]]  # (answer id, reason, state)


@pytest.fixture
def full_queue(client: TestClient, people: People, db: Database) -> Queue:
    people.topic("claims", review_interval_days=30)
    expert, colleague = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep, flagger = people.make("rep"), people.make("rep")
    threads = [ask(client, rep, "claims")["id"] for _ in range(3)]
    ids = [answer(client, rep, threads[n % 3], f"Answer {n}.")["id"] for n in range(7)]
    for stale in (ids[0], ids[4]):
        review(client, colleague, stale, "endorse")
        make_stale(db, stale)
    review(client, colleague, ids[6], "endorse")  # fresh: not in the queue
    for flagged in (ids[5], ids[3]):
        flag(client, flagger, flagged)
    return Queue(
        expert,
        [
            (ids[3], "flagged", "unreviewed"),
            (ids[5], "flagged", "unreviewed"),
            (ids[0], "stale", "stale"),
            (ids[4], "stale", "stale"),
            (ids[1], "unreviewed", "unreviewed"),
            (ids[2], "unreviewed", "unreviewed"),
        ],
    )


def test_queue_puts_flagged_first_then_stale_then_oldest(
    client: TestClient, full_queue: Queue
) -> None:
    page = queue(client, full_queue.expert)
    assert [(i["answer_id"], i["reason"], i["state"]) for i in page["items"]] == (
        full_queue.expected
    )
    assert page["next_cursor"] is None


@pytest.mark.parametrize("limit", [1, 2, 4])
def test_cursor_paging_walks_the_whole_queue_once(
    client: TestClient, full_queue: Queue, limit: int
) -> None:
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = queue(client, full_queue.expert, **params)
        assert len(page["items"]) <= limit
        seen += [item["answer_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [answer_id for answer_id, _, _ in full_queue.expected]


def test_a_review_resolves_the_flags_of_an_answer(client: TestClient, people: People) -> None:
    people.topic("claims", required_endorsements=2)
    first, second = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep, flagger = people.make("rep"), people.make("rep")
    question = ask(client, rep, "claims")["id"]
    older = answer(client, rep, question, "Older, unflagged.")["id"]
    flagged = answer(client, rep, question, "Flagged.")["id"]
    flag(client, flagger, flagged)
    assert [i["answer_id"] for i in queue(client, second)["items"]] == [flagged, older]

    review(client, first, flagged, "endorse")

    items = queue(client, second)["items"]
    assert [(i["answer_id"], i["reason"]) for i in items] == [
        (older, "unreviewed"),
        (flagged, "unreviewed"),
    ]
    assert shown_answer(client, rep, question, flagged)["open_flags"] == 0
    flag(client, flagger, flagged, "Still looks wrong to me.")  # the earlier flag is closed


def test_an_answer_i_endorsed_waits_for_other_experts_not_me(
    client: TestClient, people: People
) -> None:
    people.topic("claims", required_endorsements=2)
    first, second = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, "claims")["id"])["id"]

    review(client, first, posted, "endorse")

    assert queued_ids(client, second) == [posted]
    assert queued_ids(client, first) == []


def test_queue_with_a_garbled_cursor_is_400(
    client: TestClient, people: People, db: Database
) -> None:
    expert = people.make("expert", topics=("claims",))
    response = send_rejected(
        client, db, expert, "GET", "/reviews/queue", params={"cursor": "not-a-cursor"}
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-cursor")


def test_expert_without_topics_has_an_empty_queue(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    answer(client, rep, ask(client, rep, people.topic("claims"))["id"])
    assert queue(client, people.make("expert"))["items"] == []
