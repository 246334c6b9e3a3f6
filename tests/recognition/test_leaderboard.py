"""The leaderboard ranks people by reputation, overall or within one topic."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, answer, ask, review, send_rejected


def endorsed_answers(
    client: TestClient, expert: Person, author: Person, topic: str, count: int
) -> None:
    """`count` of `author`'s answers in `topic`, each endorsed by `expert`."""
    question = ask(client, expert, topic)["id"]
    for n in range(count):
        review(client, expert, answer(client, author, question, f"Right {n}.")["id"], "endorse")


def board(client: TestClient, reader: Person, **params: Any) -> list[tuple[int, str, int]]:
    response = client.get("/leaderboard", params=params, headers=reader.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["topic"] == params.get("topic")
    return [(e["rank"], e["user"]["username"], e["reputation"]) for e in body["entries"]]


def test_topic_leaderboard_ranks_within_the_topic_and_overall_across_topics(
    client: TestClient, people: People
) -> None:
    claims_expert = people.make("expert", topics=("claims",), username="claims-expert")
    motor_expert = people.make("expert", topics=("motor",), username="motor-expert")
    specialist, generalist = people.make(username="specialist"), people.make(username="generalist")
    endorsed_answers(client, claims_expert, specialist, "claims", 2)
    endorsed_answers(client, claims_expert, generalist, "claims", 1)
    endorsed_answers(client, motor_expert, generalist, "motor", 2)
    reader = people.make("rep")

    assert board(client, reader) == [
        (1, "generalist", 30),
        (2, "specialist", 20),
        (3, "claims-expert", 3),
        (4, "motor-expert", 2),
    ]
    assert board(client, reader, topic="claims") == [
        (1, "specialist", 20),
        (2, "generalist", 10),
        (3, "claims-expert", 3),
    ]
    assert board(client, reader, topic="motor") == [
        (1, "generalist", 20),
        (2, "motor-expert", 2),
    ]


def test_equal_reputation_ranks_by_username(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims",), username="reviewer")
    zed, amy = people.make(username="zed"), people.make(username="amy")
    endorsed_answers(client, expert, zed, "claims", 1)
    endorsed_answers(client, expert, amy, "claims", 1)

    assert board(client, zed, topic="claims")[:2] == [(1, "amy", 10), (2, "zed", 10)]


def test_people_without_reputation_and_deactivated_people_are_left_out(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",), username="reviewer")
    leaver, stayer = people.make(username="leaver"), people.make(username="stayer")
    people.make(username="newcomer")
    endorsed_answers(client, expert, leaver, "claims", 2)
    endorsed_answers(client, expert, stayer, "claims", 1)
    admin = people.make("admin")
    deactivated = client.patch(f"/users/{leaver.id}", json={"active": False}, headers=admin.headers)
    assert deactivated.status_code == 200, deactivated.text

    expected = [(1, "stayer", 10), (2, "reviewer", 3)]
    assert board(client, stayer) == expected
    assert board(client, stayer, topic="claims") == expected


def test_leaderboard_of_a_topic_nobody_has_points_in_is_empty(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    endorsed_answers(client, expert, people.make("rep"), "claims", 1)
    assert board(client, expert, topic=people.topic("motor")) == []


def test_leaderboard_limit_cuts_the_ranking(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims",), username="reviewer")
    for n, name in enumerate(("first", "second", "third")):
        endorsed_answers(client, expert, people.make(username=name), "claims", 3 - n)
    assert board(client, expert, limit=2) == [(1, "first", 30), (2, "second", 20)]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"topic": "no-such-topic"}, 404),
        ({"topic": "Not A Slug"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 101}, 422),
    ],
    ids=str,
)
def test_leaderboard_with_bad_parameters_is_a_clear_problem(
    client: TestClient, people: People, db: Database, params: dict[str, Any], status: int
) -> None:
    response = send_rejected(client, db, people.make("rep"), "GET", "/leaderboard", params=params)
    assert response.status_code == status
