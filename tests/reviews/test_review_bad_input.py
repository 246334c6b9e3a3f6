"""Malformed reviews and flags get a clear 4xx problem and write nothing."""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, answer, ask, flag, send_rejected


@dataclass
class World:
    """A rep's answer in `claims`, an expert of `claims` and a resource of that topic."""

    expert: Person
    rep: Person
    question_id: int
    answer_id: int
    resource_id: int


@pytest.fixture
def world(client: TestClient, people: People) -> World:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    posted = answer(client, rep, question["id"])
    resource = client.post(
        "/topics/claims/resources",
        json={"title": "Claims manual", "url": "https://intranet.example/claims"},
        headers=expert.headers,
    )
    assert resource.status_code == 201
    return World(expert, rep, question["id"], posted["id"], resource.json()["id"])


def fields(response: Any) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


REVIEW_CASES = [
    # what the verdict requires
    ({"verdict": "reject"}, {"body"}),
    ({"verdict": "correct", "correction": "Exactly so."}, {"body"}),
    ({"verdict": "correct", "rationale": "Not quite."}, {"body"}),
    ({"verdict": "reject", "rationale": "   "}, {"body.rationale"}),
    ({"verdict": "correct", "rationale": "Not quite.", "correction": ""}, {"body.correction"}),
    ({"verdict": "endorse", "correction": "Exactly so."}, {"body"}),
    ({"verdict": "reject", "rationale": "No.", "correction": "Exactly so."}, {"body"}),
    # the verdict itself
    ({}, {"body.verdict"}),
    ({"verdict": "approve"}, {"body.verdict"}),
    ({"verdict": "ENDORSE"}, {"body.verdict"}),
    ({"verdict": None}, {"body.verdict"}),
    # wrong types
    ({"verdict": 1}, {"body.verdict"}),
    ({"verdict": ["endorse"]}, {"body.verdict"}),
    ({"verdict": "reject", "rationale": 5}, {"body.rationale"}),
    ({"verdict": "correct", "rationale": "r", "correction": ["x"]}, {"body.correction"}),
    ({"verdict": "endorse", "references": "https://fca.example"}, {"body.references"}),
    ({"verdict": "endorse", "references": {"id": 1}}, {"body.references"}),
    # lengths
    ({"verdict": "reject", "rationale": "r" * 5_001}, {"body.rationale"}),
    ({"verdict": "endorse", "references": ["https://fca.example"] * 21}, {"body.references"}),
    # privileged and unknown fields
    ({"verdict": "endorse", "state": "endorsed"}, {"body.state"}),
    ({"verdict": "endorse", "reviewer_id": 1}, {"body.reviewer_id"}),
    ({"verdict": "endorse", "answer_revision": 7}, {"body.answer_revision"}),
]


@pytest.mark.parametrize(("body", "expected"), REVIEW_CASES, ids=str)
def test_invalid_review_is_422_naming_the_fields_and_writes_nothing(
    client: TestClient, db: Database, world: World, body: dict[str, Any], expected: set[str]
) -> None:
    response = send_rejected(
        client, db, world.expert, "POST", f"/answers/{world.answer_id}/reviews", json=body
    )
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-error")
    assert fields(response) == expected


@pytest.mark.parametrize(
    "reference",
    [0, -1, "ftp://files.example/manual", "not a url", "javascript:alert(1)", {"id": 1}, None],
    ids=str,
)
def test_invalid_reference_is_422_and_writes_nothing(
    client: TestClient, db: Database, world: World, reference: Any
) -> None:
    response = send_rejected(
        client,
        db,
        world.expert,
        "POST",
        f"/answers/{world.answer_id}/reviews",
        json={"verdict": "endorse", "references": [reference]},
    )
    assert response.status_code == 422
    assert all(field.startswith("body.references") for field in fields(response))


def test_invalid_reference_names_its_position_in_the_list(
    client: TestClient, db: Database, world: World
) -> None:
    response = send_rejected(
        client,
        db,
        world.expert,
        "POST",
        f"/answers/{world.answer_id}/reviews",
        json={"verdict": "endorse", "references": ["https://fca.example", "ftp://x"]},
    )
    assert fields(response) == {"body.references.1"}


@pytest.mark.parametrize("reference", [True, "1", 1.0], ids=repr)
def test_reference_that_is_not_an_integer_id_or_url_is_422(
    client: TestClient, db: Database, world: World, reference: Any
) -> None:
    assert world.resource_id == 1
    response = send_rejected(
        client,
        db,
        world.expert,
        "POST",
        f"/answers/{world.answer_id}/reviews",
        json={"verdict": "endorse", "references": [reference]},
    )
    assert response.status_code == 422


def test_review_of_an_unknown_answer_is_404(client: TestClient, db: Database, world: World) -> None:
    response = send_rejected(
        client, db, world.expert, "POST", "/answers/999999/reviews", json={"verdict": "endorse"}
    )
    assert response.status_code == 404


def test_review_of_a_deleted_answer_is_404(client: TestClient, db: Database, world: World) -> None:
    deleted = client.delete(f"/answers/{world.answer_id}", headers=world.rep.headers)
    assert deleted.status_code == 204

    response = send_rejected(
        client,
        db,
        world.expert,
        "POST",
        f"/answers/{world.answer_id}/reviews",
        json={"verdict": "endorse"},
    )
    assert response.status_code == 404


def test_review_of_an_answer_on_a_deleted_question_is_404(
    client: TestClient, db: Database, world: World
) -> None:
    deleted = client.delete(f"/questions/{world.question_id}", headers=world.rep.headers)
    assert deleted.status_code == 204

    response = send_rejected(
        client,
        db,
        world.expert,
        "POST",
        f"/answers/{world.answer_id}/reviews",
        json={"verdict": "reject", "rationale": "No."},
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reason": ""}, {"body.reason"}),
        ({"reason": "   "}, {"body.reason"}),
        ({}, {"body.reason"}),
        ({"reason": 5}, {"body.reason"}),
        ({"reason": "r" * 2_001}, {"body.reason"}),
        ({"reason": "Wrong.", "resolved_at": "2020-01-01T00:00:00Z"}, {"body.resolved_at"}),
        ({"reason": "Wrong.", "user_id": 1}, {"body.user_id"}),
    ],
    ids=str,
)
def test_invalid_flag_is_422_and_writes_nothing(
    client: TestClient,
    db: Database,
    people: People,
    world: World,
    body: dict[str, Any],
    expected: set[str],
) -> None:
    response = send_rejected(
        client, db, people.make("rep"), "POST", f"/answers/{world.answer_id}/flags", json=body
    )
    assert response.status_code == 422
    assert fields(response) == expected


def test_second_open_flag_by_the_same_user_is_409(
    client: TestClient, db: Database, people: People, world: World
) -> None:
    colleague = people.make("rep")
    flag(client, colleague, world.answer_id)

    response = send_rejected(
        client,
        db,
        colleague,
        "POST",
        f"/answers/{world.answer_id}/flags",
        json={"reason": "Still wrong."},
    )
    assert response.status_code == 409


def test_flag_of_an_unknown_answer_is_404(
    client: TestClient, db: Database, people: People, world: World
) -> None:
    response = send_rejected(
        client, db, people.make("rep"), "POST", "/answers/999999/flags", json={"reason": "Wrong."}
    )
    assert response.status_code == 404


def test_flag_of_a_deleted_answer_is_404(
    client: TestClient, db: Database, people: People, world: World
) -> None:
    assert (
        client.delete(f"/answers/{world.answer_id}", headers=world.rep.headers).status_code == 204
    )

    response = send_rejected(
        client,
        db,
        people.make("rep"),
        "POST",
        f"/answers/{world.answer_id}/flags",
        json={"reason": "Wrong."},
    )
    assert response.status_code == 404
