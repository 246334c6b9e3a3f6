"""Who may review which answer, and what a review leaves behind."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import (
    People,
    answer,
    ask,
    review,
    send_rejected,
    shown_answer,
)

VERDICTS = [
    {"verdict": "endorse"},
    {"verdict": "reject", "rationale": "Not so."},
    {"verdict": "correct", "rationale": "Not quite.", "correction": "Exactly so."},
]


@pytest.mark.parametrize("verdict", VERDICTS, ids=lambda v: v["verdict"])
def test_expert_cannot_review_own_answer(
    client: TestClient, people: People, db: Database, verdict: dict[str, Any]
) -> None:
    expert = people.make("expert", topics=("claims",))
    question = ask(client, people.make("rep"), "claims")
    own = answer(client, expert, question["id"], "My own answer.")

    response = send_rejected(
        client, db, expert, "POST", f"/answers/{own['id']}/reviews", json=verdict
    )

    assert response.status_code == 403
    assert response.json()["type"].endswith("/self-review")


def test_expert_of_another_topic_cannot_review(
    client: TestClient, people: People, db: Database
) -> None:
    outsider = people.make("expert", topics=("motor",))
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, people.topic("claims"))["id"])

    response = send_rejected(
        client,
        db,
        outsider,
        "POST",
        f"/answers/{posted['id']}/reviews",
        json={"verdict": "endorse"},
    )

    assert response.status_code == 403
    assert response.json()["type"].endswith("/forbidden")


@pytest.mark.parametrize("role", ["rep", "admin", "compliance"])
def test_only_experts_review(client: TestClient, people: People, db: Database, role: str) -> None:
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, people.topic("claims"))["id"])
    someone = people.make(role)

    response = send_rejected(
        client, db, someone, "POST", f"/answers/{posted['id']}/reviews", json={"verdict": "endorse"}
    )

    assert response.status_code == 403


def test_required_endorsements_come_from_distinct_experts(
    client: TestClient, people: People
) -> None:
    people.topic("claims", required_endorsements=2)
    first, second = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    posted = answer(client, rep, question["id"])

    review(client, first, posted["id"], "endorse")
    review(client, first, posted["id"], "endorse")
    assert shown_answer(client, rep, question["id"], posted["id"])["state"] == (
        "awaiting_endorsement"
    )

    review(client, second, posted["id"], "endorse")
    assert shown_answer(client, rep, question["id"], posted["id"])["state"] == "endorsed"


def test_correction_leaves_the_original_text_and_its_revisions_untouched(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    posted = answer(client, rep, question["id"], "Original text.")

    review(
        client,
        expert,
        posted["id"],
        "correct",
        rationale="Imprecise.",
        correction="Authoritative text.",
    )

    shown = shown_answer(client, rep, question["id"], posted["id"])
    assert (shown["state"], shown["body"], shown["correction"], shown["revision"]) == (
        "corrected",
        "Original text.",
        "Authoritative text.",
        1,
    )
    revisions = client.get(f"/answers/{posted['id']}/revisions", headers=rep.headers).json()
    assert [(r["number"], r["body"]) for r in revisions["items"]] == [(1, "Original text.")]


def test_reference_to_a_resource_of_another_topic_is_422(
    client: TestClient, people: People, db: Database
) -> None:
    expert = people.make("expert", topics=("claims", "motor"))
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, "claims")["id"])
    elsewhere = client.post(
        "/topics/motor/resources",
        json={"title": "Motor manual", "url": "https://intranet.example/motor"},
        headers=expert.headers,
    ).json()

    response = send_rejected(
        client,
        db,
        expert,
        "POST",
        f"/answers/{posted['id']}/reviews",
        json={"verdict": "endorse", "references": [elsewhere["id"]]},
    )

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.references"}


def test_reference_to_an_unknown_resource_is_422(
    client: TestClient, people: People, db: Database
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, "claims")["id"])

    response = send_rejected(
        client,
        db,
        expert,
        "POST",
        f"/answers/{posted['id']}/reviews",
        json={"verdict": "reject", "rationale": "No.", "references": [4242]},
    )

    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"body.references"}
