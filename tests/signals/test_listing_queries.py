"""Listing learning needs runs the same number of SQL queries however many answers and signals
there are (SPEC: signals are maintained as reviews happen, listing never scans answers)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, answer, ask, reject, review
from tests.questions.test_thread_queries import counting_queries


def grow_topic(
    client: TestClient, expert: Person, rep: Person, topic: str, wrong_threads: int, right: int
) -> None:
    """`wrong_threads` threads with two rejected answers each, and `right` endorsed answers:
    a thread signal per wrong thread, and a topic signal."""
    for _ in range(wrong_threads):
        question = ask(client, rep, topic)["id"]
        for body in ("Wrong once.", "Wrong twice."):
            reject(client, expert, answer(client, rep, question, body)["id"])
    for _ in range(right):
        question = ask(client, rep, topic)["id"]
        review(client, expert, answer(client, rep, question, "Right.")["id"], "endorse")


def handle_some(client: TestClient, expert: Person, reader: Person) -> None:
    """Acknowledge every other open signal and address every third, so histories differ."""
    items = client.get("/learning-needs", params={"limit": 100}, headers=reader.headers).json()
    for n, signal in enumerate(items["items"]):
        for action, every in (("acknowledge", 2), ("address", 3)):
            if n % every == 0:
                client.post(
                    f"/learning-needs/{signal['id']}/{action}",
                    json={"note": f"{action} {n}"},
                    headers=expert.headers,
                )


def listing_queries(
    client: TestClient, db: Database, reader: Person, params: dict[str, Any]
) -> tuple[int, int]:
    """(statements run, signals listed) for one page of learning needs."""
    with counting_queries(db) as statements:
        response = client.get("/learning-needs", params=params, headers=reader.headers)
    assert response.status_code == 200, response.text
    return len(statements), len(response.json()["items"])


@pytest.mark.parametrize(
    "params",
    [{"limit": 100}, {"topic": "claims", "limit": 100}, {"status": "open", "kind": "thread"}],
    ids=["all", "one-topic", "open-threads"],
)
def test_listing_learning_needs_costs_a_fixed_number_of_queries(
    client: TestClient, people: People, db: Database, params: dict[str, Any]
) -> None:
    topics = ("claims", "motor", "home")
    expert = people.make("expert", topics=topics)
    rep, reader = people.make("rep"), people.make("rep")
    grow_topic(client, expert, rep, "claims", wrong_threads=1, right=3)
    small_count, small_listed = listing_queries(client, db, reader, params)

    for topic in topics:
        grow_topic(client, expert, rep, topic, wrong_threads=4, right=6)
    handle_some(client, expert, reader)
    large_count, large_listed = listing_queries(client, db, reader, params)

    assert small_listed >= 1 and large_listed >= 3 * small_listed
    assert large_count == small_count
    assert small_count <= 8
