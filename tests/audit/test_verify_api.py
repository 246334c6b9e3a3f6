"""GET /audit/verify and /audit/checkpoint: reading the chain's state changes nothing."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import Database
from tests.factories import People


def test_the_checkpoint_is_the_last_event_and_reading_it_writes_nothing(
    client: TestClient, people: People, db: Database
) -> None:
    officer = people.make("compliance")
    first = client.get("/audit/checkpoint", headers=officer.headers).json()
    second = client.get("/audit/checkpoint", headers=officer.headers).json()
    assert first == second
    with db.session(write=False) as session:
        last = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1))
        event = last.scalar_one()
    assert (first["seq"], first["hash"]) == (event.seq, event.hash)
    assert first["occurred_at"] == event.occurred_at.isoformat().replace("+00:00", "Z")


def test_verify_reports_the_chain_and_writes_nothing(client: TestClient, people: People) -> None:
    officer = people.make("compliance")
    kept = client.get("/audit/checkpoint", headers=officer.headers).json()
    params = {"checkpoint_seq": kept["seq"], "checkpoint_hash": kept["hash"]}
    report = client.get("/audit/verify", params=params, headers=officer.headers).json()
    assert report == {
        "ok": True,
        "events_checked": kept["seq"],
        "head_seq": kept["seq"],
        "head_hash": kept["hash"],
        "first_bad_seq": None,
        "reason": None,
    }
    assert client.get("/audit/checkpoint", headers=officer.headers).json() == kept


@pytest.mark.parametrize(
    "query",
    [
        "checkpoint_seq=3",
        "checkpoint_seq=3&checkpoint_hash=xyz",
        f"checkpoint_seq=-1&checkpoint_hash={'a' * 64}",
    ],
    ids=["seq without hash", "malformed hash", "negative seq"],
)
def test_a_malformed_checkpoint_is_a_422(client: TestClient, people: People, query: str) -> None:
    officer = people.make("compliance")
    response = client.get(f"/audit/verify?{query}", headers=officer.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
