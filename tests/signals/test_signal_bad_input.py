"""Acknowledging and addressing learning needs: refusals are clear 4xx problems that write
nothing."""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, answer, ask, reject, send_rejected


@dataclass
class World:
    expert: Person
    signal_id: int


@pytest.fixture
def world(client: TestClient, people: People) -> World:
    """An open thread signal in `claims`: two of a rep's answers on one thread rejected."""
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    for body in ("Wrong once.", "Wrong twice."):
        reject(client, expert, answer(client, rep, question["id"], body)["id"])
    [signal] = client.get("/learning-needs", headers=rep.headers).json()["items"]
    assert (signal["kind"], signal["status"]) == ("thread", "open")
    return World(expert, signal["id"])


def step(client: TestClient, world: World, action: str, note: str = "Noted.") -> None:
    response = client.post(
        f"/learning-needs/{world.signal_id}/{action}",
        json={"note": note},
        headers=world.expert.headers,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("done", "again"),
    [("acknowledge", "acknowledge"), ("address", "address"), ("address", "acknowledge")],
)
def test_a_step_the_signal_is_past_is_409(
    client: TestClient, db: Database, world: World, done: str, again: str
) -> None:
    step(client, world, done, "Training booked.")

    response = send_rejected(
        client,
        db,
        world.expert,
        "POST",
        f"/learning-needs/{world.signal_id}/{again}",
        json={"note": "Again."},
    )
    assert response.status_code == 409


@pytest.mark.parametrize("action", ["acknowledge", "address"])
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, {"body.note"}),
        ({"note": ""}, {"body.note"}),
        ({"note": "   "}, {"body.note"}),
        ({"note": None}, {"body.note"}),
        ({"note": 5}, {"body.note"}),
        ({"note": "n" * 5_001}, {"body.note"}),
        ({"note": "Seen.", "status": "addressed"}, {"body.status"}),
    ],
    ids=str,
)
def test_step_without_a_proper_note_is_422(
    client: TestClient,
    db: Database,
    world: World,
    action: str,
    body: dict[str, Any],
    expected: set[str],
) -> None:
    response = send_rejected(
        client, db, world.expert, "POST", f"/learning-needs/{world.signal_id}/{action}", json=body
    )
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == expected


@pytest.mark.parametrize("action", ["acknowledge", "address"])
def test_step_on_an_unknown_signal_is_404(
    client: TestClient, db: Database, world: World, action: str
) -> None:
    response = send_rejected(
        client, db, world.expert, "POST", f"/learning-needs/999999/{action}", json={"note": "Seen."}
    )
    assert response.status_code == 404


def test_expert_of_another_topic_cannot_acknowledge(
    client: TestClient, db: Database, people: People, world: World
) -> None:
    outsider = people.make("expert", topics=("motor",))
    response = send_rejected(
        client,
        db,
        outsider,
        "POST",
        f"/learning-needs/{world.signal_id}/acknowledge",
        json={"note": "Seen."},
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"topic": "no-such-topic"}, 404, None),
        ({"status": "closed"}, 422, "query.status"),
        ({"kind": "question"}, 422, "query.kind"),
        ({"topic": "Not A Slug"}, 422, "query.topic"),
        ({"limit": 0}, 422, "query.limit"),
        ({"cursor": "garbage"}, 400, None),
    ],
    ids=str,
)
def test_listing_with_a_bad_filter_is_a_clear_problem(
    client: TestClient,
    db: Database,
    world: World,
    params: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    response = send_rejected(client, db, world.expert, "GET", "/learning-needs", params=params)
    assert response.status_code == status
    if field is not None:
        assert {error["field"] for error in response.json()["errors"]} == {field}
