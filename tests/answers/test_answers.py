"""Answering, editing answers, voting and commenting."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import Database
from tests.factories import People, Person, answer, ask

PROBLEM_JSON = "application/problem+json"


def vote(client: TestClient, voter: Person, answer_id: int, value: Any) -> Any:
    return client.post(f"/answers/{answer_id}/votes", json={"value": value}, headers=voter.headers)


def thread_answer(client: TestClient, person: Person, question_id: int) -> dict[str, Any]:
    thread = client.get(f"/questions/{question_id}", headers=person.headers).json()
    (only,) = thread["answers"]
    return dict(only)


@pytest.fixture
def posted(client: TestClient, people: People) -> dict[str, Any]:
    """A question by one rep and an answer to it by another."""
    asker, author = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic("claims"))
    return {
        "asker": asker,
        "author": author,
        "question": question,
        "answer": answer(client, author, question["id"], "Check the renewal date first."),
    }


def test_rep_answers_a_question_and_the_answer_starts_unreviewed(
    client: TestClient, people: People
) -> None:
    asker, helper = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic())
    response = client.post(
        f"/questions/{question['id']}/answers",
        json={"body": "Check the renewal date first."},
        headers=helper.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["question_id"] == question["id"]
    assert created["body"] == "Check the renewal date first."
    assert created["state"] == "unreviewed"
    assert created["score"] == 0
    assert created["revision"] == 1
    assert created["author"]["username"] == helper.username


def test_expert_and_admin_may_answer_too(client: TestClient, people: People) -> None:
    question = ask(client, people.make("rep"), people.topic("claims"))
    for person in (people.make("expert", topics=("claims",)), people.make("admin")):
        assert answer(client, person, question["id"])["state"] == "unreviewed"


def test_answering_an_unknown_question_is_404(client: TestClient, people: People) -> None:
    response = client.post(
        "/questions/4242/answers", json={"body": "Hello?"}, headers=people.make("rep").headers
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


def test_author_edits_answer_and_every_revision_is_kept(
    client: TestClient, posted: dict[str, Any]
) -> None:
    author, answer_id = posted["author"], posted["answer"]["id"]
    response = client.patch(
        f"/answers/{answer_id}", json={"body": "Check the renewal date."}, headers=author.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["body"] == "Check the renewal date."
    assert response.json()["revision"] == 2

    history = client.get(f"/answers/{answer_id}/revisions", headers=author.headers).json()
    assert [(r["number"], r["body"]) for r in history["items"]] == [
        (1, "Check the renewal date first."),
        (2, "Check the renewal date."),
    ]
    assert {r["editor"]["username"] for r in history["items"]} == {author.username}


def test_admin_may_edit_anyones_answer(
    client: TestClient, people: People, posted: dict[str, Any]
) -> None:
    admin, answer_id = people.make("admin"), posted["answer"]["id"]
    response = client.patch(
        f"/answers/{answer_id}", json={"body": "Edited by admin."}, headers=admin.headers
    )
    assert response.status_code == 200
    history = client.get(f"/answers/{answer_id}/revisions", headers=admin.headers).json()
    assert history["items"][-1]["editor"]["username"] == admin.username


def test_another_rep_may_not_edit_an_answer(client: TestClient, posted: dict[str, Any]) -> None:
    asker, answer_id = posted["asker"], posted["answer"]["id"]
    response = client.patch(
        f"/answers/{answer_id}", json={"body": "Not mine to change."}, headers=asker.headers
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert thread_answer(client, asker, posted["question"]["id"])["body"] == (
        "Check the renewal date first."
    )


def test_another_rep_may_not_delete_an_answer(client: TestClient, posted: dict[str, Any]) -> None:
    asker, answer_id = posted["asker"], posted["answer"]["id"]
    assert client.delete(f"/answers/{answer_id}", headers=asker.headers).status_code == 403
    assert thread_answer(client, asker, posted["question"]["id"])["id"] == answer_id


def test_upvotes_and_downvotes_from_different_people_add_up(
    client: TestClient, people: People, posted: dict[str, Any]
) -> None:
    answer_id = posted["answer"]["id"]
    first, second, third = people.make("rep"), people.make("expert"), people.make("admin")
    assert vote(client, first, answer_id, 1).json() == {
        "answer_id": answer_id,
        "value": 1,
        "score": 1,
    }
    assert vote(client, second, answer_id, 1).json()["score"] == 2
    assert vote(client, third, answer_id, -1).json()["score"] == 1
    assert thread_answer(client, first, posted["question"]["id"])["score"] == 1


def test_voting_again_replaces_the_earlier_vote(
    client: TestClient, people: People, posted: dict[str, Any]
) -> None:
    answer_id, voter = posted["answer"]["id"], people.make("rep")
    assert vote(client, voter, answer_id, 1).json()["score"] == 1
    assert vote(client, voter, answer_id, 1).json()["score"] == 1
    assert vote(client, voter, answer_id, -1).json()["score"] == -1
    assert vote(client, voter, answer_id, -1).json()["score"] == -1
    assert thread_answer(client, voter, posted["question"]["id"])["score"] == -1


def test_a_replaced_vote_is_stored_once(
    client: TestClient, people: People, posted: dict[str, Any], db: Database
) -> None:
    answer_id, voter = posted["answer"]["id"], people.make("rep")
    vote(client, voter, answer_id, 1)
    vote(client, voter, answer_id, -1)
    with db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT value FROM votes WHERE answer_id = :a"), {"a": answer_id}
        ).all()
    assert [row.value for row in rows] == [-1]


def test_voting_on_own_answer_is_forbidden(client: TestClient, posted: dict[str, Any]) -> None:
    response = vote(client, posted["author"], posted["answer"]["id"], 1)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/own-answer")
    assert thread_answer(client, posted["author"], posted["question"]["id"])["score"] == 0


def test_voting_on_a_deleted_answer_is_404(
    client: TestClient, people: People, posted: dict[str, Any]
) -> None:
    answer_id = posted["answer"]["id"]
    client.delete(f"/answers/{answer_id}", headers=posted["author"].headers)
    assert vote(client, people.make("rep"), answer_id, 1).status_code == 404


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/questions/{question_id}/answers", {"body": "Compliance answering."}),
        ("/answers/{answer_id}/votes", {"value": 1}),
        ("/answers/{answer_id}/comments", {"body": "Compliance commenting."}),
        ("/questions/{question_id}/comments", {"body": "Compliance commenting."}),
    ],
    ids=["answer", "vote", "comment-on-answer", "comment-on-question"],
)
def test_compliance_cannot_answer_vote_or_comment(
    client: TestClient,
    people: People,
    posted: dict[str, Any],
    db: Database,
    path: str,
    body: dict[str, Any],
) -> None:
    officer = people.make("compliance")
    url = path.format(question_id=posted["question"]["id"], answer_id=posted["answer"]["id"])
    with db.engine.connect() as conn:
        events_before = conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    response = client.post(url, json=body, headers=officer.headers)
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/forbidden")
    thread = client.get(f"/questions/{posted['question']['id']}", headers=officer.headers).json()
    assert len(thread["answers"]) == 1
    assert thread["answers"][0]["score"] == 0
    assert thread["comments"] == thread["answers"][0]["comments"] == []
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == events_before


def test_comment_on_an_answer_is_returned_and_shown_under_it(
    client: TestClient, posted: dict[str, Any]
) -> None:
    asker, answer_id = posted["asker"], posted["answer"]["id"]
    response = client.post(
        f"/answers/{answer_id}/comments",
        json={"body": "Thanks, that worked."},
        headers=asker.headers,
    )
    assert response.status_code == 201, response.text
    comment = response.json()
    assert comment["answer_id"] == answer_id
    assert comment["question_id"] == posted["question"]["id"]
    assert comment["body"] == "Thanks, that worked."
    assert comment["author"]["username"] == asker.username
    shown = thread_answer(client, asker, posted["question"]["id"])["comments"]
    assert [c["id"] for c in shown] == [comment["id"]]


def test_comments_on_an_answer_keep_their_order(client: TestClient, posted: dict[str, Any]) -> None:
    asker, author, answer_id = posted["asker"], posted["author"], posted["answer"]["id"]
    for person, body in ((asker, "Which policy?"), (author, "Motor."), (asker, "Thanks.")):
        client.post(f"/answers/{answer_id}/comments", json={"body": body}, headers=person.headers)
    shown = thread_answer(client, asker, posted["question"]["id"])["comments"]
    assert [c["body"] for c in shown] == ["Which policy?", "Motor.", "Thanks."]


def test_commenting_on_a_deleted_answer_is_404(client: TestClient, posted: dict[str, Any]) -> None:
    answer_id = posted["answer"]["id"]
    client.delete(f"/answers/{answer_id}", headers=posted["author"].headers)
    response = client.post(
        f"/answers/{answer_id}/comments", json={"body": "Hello?"}, headers=posted["asker"].headers
    )
    assert response.status_code == 404
