"""What a thread's search document holds, built from the database."""

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.db import Database, session_scope, utcnow
from search.documents import build_documents
from tests.factories import People, answer, ask
from tests.search.helpers import set_state


def _document(db: Database, question_id: int) -> dict[str, Any]:
    with db.session(write=False) as session:
        documents, gone = build_documents(session, [question_id])
    assert gone == []
    return documents[0]


def test_rejected_answers_are_left_out_and_corrections_replace_the_answer(
    client: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims", tags=["lapse"])
    wrong = answer(client, rep, q["id"], "Cancel the policy immediately.")
    fixed = answer(client, rep, q["id"], "Phone the customer.")
    plain = answer(client, rep, q["id"], "Check the grace period first.")
    set_state(db, wrong["id"], "rejected")
    set_state(db, fixed["id"], "corrected", correction="Write to the customer within 14 days.")

    document = _document(db, q["id"])

    everything = " ".join([*document["answers"], document["best_answer_text"]])
    assert "Cancel the policy" not in everything
    assert "Phone the customer" not in everything
    assert document["best_answer_text"] == "Write to the customer within 14 days."
    assert document["best_answer"]["answer_id"] == fixed["id"]
    assert document["answers"] == ["Check the grace period first."]
    assert document["validated"] is True
    assert document["topic"] == "claims" and document["tags"] == ["lapse"]
    assert plain["id"] != fixed["id"]


def test_a_thread_without_endorsed_or_corrected_answers_is_not_validated(
    client: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    a = answer(client, rep, q["id"])
    set_state(db, a["id"], "awaiting_endorsement")

    document = _document(db, q["id"])

    assert document["validated"] is False and document["best_answer"] is None


def test_a_stale_endorsement_does_not_validate_the_thread(
    client: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    a = answer(client, rep, q["id"])
    set_state(db, a["id"], "endorsed")
    with session_scope(db) as session:
        session.execute(
            update(Answer).where(Answer.id == a["id"]).values(stale_at=utcnow() - timedelta(days=1))
        )

    assert _document(db, q["id"])["validated"] is False


def test_deleted_questions_are_documents_to_delete(
    client: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    assert client.delete(f"/questions/{q['id']}", headers=rep.headers).status_code == 204

    with db.session(write=False) as session:
        documents, gone = build_documents(session, [q["id"], 999_999])

    assert documents == [] and gone == [q["id"], 999_999]
