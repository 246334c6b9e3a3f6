"""A topic that keeps drawing wrong answers opens a topic learning need, and signals can be
filtered by topic, status and kind."""

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.config import Settings
from app.db import Database, session_scope, utcnow
from tests.factories import People, Person, answer, ask, reject, review


@pytest.fixture(autouse=True)
def default_thresholds(settings: Settings) -> None:
    """These tests are written against the spec's defaults."""
    assert (settings.topic_min_reviewed, settings.topic_wrong_rate) == (5, 0.4)
    assert (settings.topic_window_days, settings.wrong_answer_threshold) == (30, 2)


def signals(client: TestClient, reader: Person, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/learning-needs", params=params, headers=reader.headers)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def answers_across_threads(
    client: TestClient, rep: Person, topic: str, count: int, threads: int = 4
) -> list[int]:
    """`count` answers spread round-robin over `threads` new threads of `topic`."""
    questions = [ask(client, rep, topic)["id"] for _ in range(threads)]
    return [answer(client, rep, questions[n % threads], f"Answer {n}.")["id"] for n in range(count)]


def test_no_topic_signal_before_the_fifth_reviewed_answer(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    ids = answers_across_threads(client, rep, "claims", 5, threads=5)

    for answer_id in ids[:4]:
        reject(client, expert, answer_id)
        assert signals(client, rep, kind="topic") == []  # 100% wrong, but too few reviewed

    reject(client, expert, ids[4])
    [signal] = signals(client, rep, kind="topic")
    assert (signal["topic"], signal["status"], signal["question_id"]) == ("claims", "open", None)
    assert (signal["wrong_count"], signal["reviewed_count"]) == (5, 5)
    assert [step["status"] for step in signal["history"]] == ["open"]


def test_topic_signal_opens_when_the_wrong_rate_reaches_forty_percent(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    ids = answers_across_threads(client, rep, "claims", 7)
    for answer_id in ids[:4]:
        review(client, expert, answer_id, "endorse")

    for answer_id, rate in zip(ids[4:6], ("1/5", "2/6"), strict=True):
        reject(client, expert, answer_id)
        assert signals(client, rep, kind="topic") == [], rate

    reject(client, expert, ids[6])  # 3/7, about 43%
    [signal] = signals(client, rep, kind="topic")
    assert (signal["wrong_count"], signal["reviewed_count"]) == (3, 7)
    assert signals(client, rep, kind="thread") == []  # no thread has two wrong answers


def test_exactly_forty_percent_wrong_opens_the_topic_signal(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    ids = answers_across_threads(client, rep, "claims", 5)
    for answer_id in ids[:3]:
        review(client, expert, answer_id, "endorse")
    reject(client, expert, ids[3])
    assert signals(client, rep, kind="topic") == []

    review(client, expert, ids[4], "correct", rationale="Close.", correction="Exactly.")

    [signal] = signals(client, rep, kind="topic")
    assert (signal["wrong_count"], signal["reviewed_count"]) == (2, 5)


def test_wrong_answers_in_other_topics_do_not_count(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims", "motor"))
    rep = people.make("rep")
    for answer_id in answers_across_threads(client, rep, "claims", 4):
        reject(client, expert, answer_id)

    [elsewhere] = answers_across_threads(client, rep, "motor", 1, threads=1)
    reject(client, expert, elsewhere)

    assert signals(client, rep, kind="topic") == []


def test_reviews_older_than_the_window_do_not_count(
    client: TestClient, people: People, db: Database
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    ids = answers_across_threads(client, rep, "claims", 5, threads=5)
    for answer_id in ids[:4]:
        reject(client, expert, answer_id)
    # The window is 30 days of wall-clock time and the API has no clock to move, so the
    # first four reviews are moved into the past directly.
    with session_scope(db) as session:
        session.execute(
            update(Answer)
            .where(Answer.id.in_(ids[:4]))
            .values(reviewed_at=utcnow() - timedelta(days=31))
        )

    reject(client, expert, ids[4])

    assert signals(client, rep, kind="topic") == []


def test_learning_needs_filter_by_topic_status_and_kind(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims", "motor"))
    rep = people.make("rep")
    for answer_id in answers_across_threads(client, rep, "claims", 5, threads=4):
        reject(client, expert, answer_id)  # thread 0 gets two wrong answers
    motor = ask(client, rep, "motor")["id"]
    for body in ("Wrong once.", "Wrong twice."):
        reject(client, expert, answer(client, rep, motor, body)["id"])

    everything = signals(client, rep)
    assert sorted((s["kind"], s["topic"]) for s in everything) == [
        ("thread", "claims"),
        ("thread", "motor"),
        ("topic", "claims"),
    ]
    by_kind = {(s["kind"], s["topic"]): s["id"] for s in everything}
    acknowledged = client.post(
        f"/learning-needs/{by_kind['thread', 'motor']}/acknowledge",
        json={"note": "Seen."},
        headers=expert.headers,
    )
    assert acknowledged.status_code == 200

    def ids(**params: str) -> set[int]:
        return {s["id"] for s in signals(client, rep, **params)}

    assert ids(topic="claims") == {by_kind["thread", "claims"], by_kind["topic", "claims"]}
    assert ids(topic="motor") == {by_kind["thread", "motor"]}
    assert ids(kind="topic") == {by_kind["topic", "claims"]}
    assert ids(kind="thread") == {by_kind["thread", "claims"], by_kind["thread", "motor"]}
    assert ids(status="acknowledged") == {by_kind["thread", "motor"]}
    assert ids(status="open", topic="claims", kind="thread") == {by_kind["thread", "claims"]}
    assert ids(status="addressed") == set()
    assert ids(topic=people.topic("home")) == set()
