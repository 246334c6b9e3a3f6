"""The digest: answers validated since a date, and who contributed most since then."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, answer, ask, reject, review, send_rejected


def digest(client: TestClient, reader: Person, **params: Any) -> dict[str, Any]:
    response = client.get("/digest", params=params, headers=reader.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.parametrize(
    "spelling",
    [
        lambda t: t.isoformat(),
        lambda t: t.replace(tzinfo=None).isoformat(),  # no zone: read as UTC
        lambda t: t.astimezone(timezone(timedelta(hours=2))).isoformat(),
    ],
    ids=["utc", "naive", "plus-two-hours"],
)
def test_digest_lists_answers_validated_since_the_date(
    client: TestClient, people: People, spelling: Any
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    question = ask(client, rep, "claims")["id"]
    earlier, later, wrong = (answer(client, rep, question, f"Answer {n}.")["id"] for n in range(3))
    review(client, expert, earlier, "endorse")
    cutoff = parse(
        review(client, expert, later, "correct", rationale="Close.", correction="Exact.")[
            "created_at"
        ]
    )
    reject(client, expert, wrong)

    body = digest(client, rep, since=spelling(cutoff))

    assert parse(body["since"]) == cutoff
    assert [(a["answer_id"], a["state"]) for a in body["answers"]] == [(later, "corrected")]


def test_digest_pages_through_validated_answers(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    ids = [answer(client, rep, question["id"], f"Answer {n}.")["id"] for n in range(3)]
    for answer_id in ids:
        review(client, expert, answer_id, "endorse")

    seen: list[int] = []
    params: dict[str, Any] = {"since": question["created_at"], "limit": 2}
    while True:
        body = digest(client, rep, **params)
        seen += [a["answer_id"] for a in body["answers"]]
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert sorted(seen) == ids and len(seen) == len(set(seen))


def test_digest_leaves_out_deleted_answers(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    posted = answer(client, rep, question["id"])["id"]
    review(client, expert, posted, "endorse")
    assert client.delete(f"/answers/{posted}", headers=rep.headers).status_code == 204

    assert digest(client, rep, since=question["created_at"])["answers"] == []


def test_digest_without_since_covers_the_last_week(client: TestClient, people: People) -> None:
    reader = people.make("rep")
    body = digest(client, reader)
    week_ago = datetime.now(UTC) - timedelta(days=7)
    assert abs(parse(body["since"]) - week_ago) < timedelta(minutes=1)


@pytest.mark.parametrize(
    "since",
    [
        "yesterday",
        "2024-13-01",
        "2024-02-30",
        "2024-01-01T25:00:00Z",
        "2024-01-01T00:00:00+25:00",
        "2024-01-01T00:00:00Zjunk",
        "2999-01-01T00:00:00Z",
    ],
)
def test_digest_with_a_malformed_since_is_422(
    client: TestClient, people: People, db: Database, since: str
) -> None:
    response = send_rejected(
        client, db, people.make("rep"), "GET", "/digest", params={"since": since}
    )
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"query.since"}


def test_digest_since_at_the_edge_of_the_calendar_is_a_4xx(
    client: TestClient, people: People
) -> None:
    response = client.get(
        "/digest",
        params={"since": "0001-01-01T00:00:00+14:00"},
        headers=people.make("rep").headers,
    )
    assert 200 <= response.status_code < 500
