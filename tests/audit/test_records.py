"""Compliance can rebuild any question or answer, every version of it, deleted or not."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import AnswerRevision
from app.db import Database, session_scope
from tests.factories import People, Person, answer, ask


@pytest.fixture
def officer(people: People) -> Person:
    return people.make("compliance")


def record(client: TestClient, officer: Person, kind: str, ident: int) -> dict[str, Any]:
    response = client.get(f"/audit/records/{kind}/{ident}", headers=officer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_deleted_question_is_rebuilt_with_every_version_and_who_made_it(
    client: TestClient, people: People, officer: Person
) -> None:
    rep, admin = people.make("rep"), people.make("admin")
    question = ask(client, rep, people.topic("claims"), title="Original title here", tags=["a"])
    qid = question["id"]
    client.patch(f"/questions/{qid}", json={"body": "Second body."}, headers=rep.headers)
    edit = {"title": "Admin's better title", "tags": []}
    client.patch(f"/questions/{qid}", json=edit, headers=admin.headers)
    assert client.delete(f"/questions/{qid}", headers=rep.headers).status_code == 204
    assert client.get(f"/questions/{qid}", headers=rep.headers).status_code == 404

    rebuilt = record(client, officer, "question", qid)
    assert rebuilt["deleted"] is True
    versions = rebuilt["versions"]
    assert [v["number"] for v in versions] == [1, 2, 3]
    editors = [v["actor"]["username"] for v in versions]
    assert editors == [rep.username, rep.username, admin.username]
    assert versions[0]["content"] == {
        "title": "Original title here",
        "body": "Details here.",
        "tags": ["a"],
    }
    assert versions[1]["content"]["body"] == "Second body."
    assert versions[1]["changed"] == ["body"]
    assert versions[2]["content"] == {
        "title": "Admin's better title",
        "body": "Second body.",
        "tags": [],
    }
    assert all(v["matches_stored_revision"] for v in versions)
    assert [e["action"] for e in rebuilt["history"]] == [
        "question.create",
        "question.update",
        "question.update",
        "question.delete",
    ]
    assert rebuilt["history"][-1]["actor"]["username"] == rep.username


def test_an_answer_is_rebuilt_with_its_edits_and_everything_that_happened_to_it(
    client: TestClient, people: People, officer: Person
) -> None:
    author, voter = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))
    posted = answer(client, author, question["id"], body="First try.")
    client.patch(f"/answers/{posted['id']}", json={"body": "Better."}, headers=author.headers)
    client.post(f"/answers/{posted['id']}/votes", json={"value": 1}, headers=voter.headers)
    client.delete(f"/answers/{posted['id']}", headers=author.headers)

    rebuilt = record(client, officer, "answer", posted["id"])
    assert rebuilt["deleted"] is True
    assert [v["content"]["body"] for v in rebuilt["versions"]] == ["First try.", "Better."]
    assert [e["action"] for e in rebuilt["history"]] == [
        "answer.create",
        "answer.update",
        "vote.cast",
        "answer.delete",
    ]


def test_a_revision_table_that_disagrees_with_the_trail_is_pointed_out(
    client: TestClient, people: People, officer: Person, db: Database
) -> None:
    author = people.make("rep")
    posted = answer(client, author, ask(client, author, people.topic("claims"))["id"])
    with session_scope(db) as session:
        session.execute(
            update(AnswerRevision)
            .where(AnswerRevision.answer_id == posted["id"])
            .values(body="Quietly rewritten.")
        )
    versions = record(client, officer, "answer", posted["id"])["versions"]
    assert versions[0]["content"]["body"] == "An answer."
    assert versions[0]["matches_stored_revision"] is False


def test_a_record_the_trail_knows_nothing_about_is_a_404(
    client: TestClient, officer: Person
) -> None:
    response = client.get("/audit/records/question/999", headers=officer.headers)
    assert response.status_code == 404
    assert response.json()["type"] == "/problems/not-found"


@pytest.mark.parametrize("path", ["/audit/records/user/1", "/audit/records/question/0"])
def test_an_unknown_kind_or_bad_id_is_a_422(client: TestClient, officer: Person, path: str) -> None:
    assert client.get(path, headers=officer.headers).status_code == 422


def test_only_compliance_may_rebuild_records(client: TestClient, people: People) -> None:
    author = people.make("rep")
    question = ask(client, author, people.topic("claims"))
    response = client.get(f"/audit/records/question/{question['id']}", headers=author.headers)
    assert response.status_code == 403
