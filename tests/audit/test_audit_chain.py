"""Every state change writes one chained audit event in its own transaction."""

import itertools
import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.audit import chain as chain_module
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.audit.service import Actor, AuditContext, Event, verify_chain
from app.db import Database, session_scope
from tests.factories import PASSWORD, People, ask


def events(db: Database) -> list[AuditEvent]:
    with db.session(write=False) as session:
        return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())


def last_event(db: Database) -> AuditEvent:
    return events(db)[-1]


def test_asking_writes_one_event_with_request_facts(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    topic = people.topic("claims")
    before = len(events(db))
    response = client.post(
        "/questions",
        json={"title": "What is the excess on glass?", "body": "Windscreen.", "topic": topic},
        headers={**rep.headers, "User-Agent": "agent/1.0", "X-Request-ID": "req-123"},
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"] == "req-123"
    new = events(db)[before:]
    assert [e.action for e in new] == ["question.create"]
    event = new[0]
    assert (event.actor_id, event.actor_username, event.actor_roles) == (
        rep.id,
        rep.username,
        ["rep"],
    )
    assert (event.target_type, event.target_id) == ("question", str(response.json()["id"]))
    assert (event.request_id, event.user_agent, event.outcome) == (
        "req-123",
        "agent/1.0",
        "success",
    )
    assert event.client_ip
    assert event.payload["after"]["title"] == "What is the excess on glass?"


def test_edit_event_holds_before_and_after(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic("claims"), body="Original body.")
    client.patch(f"/questions/{question['id']}", json={"body": "New body."}, headers=rep.headers)
    event = last_event(db)
    assert event.action == "question.update"
    assert event.payload["before"] == {"body": "Original body."}
    assert event.payload["after"] == {"body": "New body."}


def test_failed_login_is_audited_and_kept_despite_the_401(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    response = client.post("/auth/token", json={"username": rep.username, "password": "wrong-pass"})
    assert response.status_code == 401
    event = last_event(db)
    assert (event.action, event.outcome) == ("auth.login", "failure")
    assert event.payload == {
        "username": rep.username,
        "method": "password",
        "reason": "bad-password",
    }


def test_unknown_user_login_is_audited_without_an_actor(client: TestClient, db: Database) -> None:
    client.post("/auth/token", json={"username": "ghost", "password": "whatever1"})
    event = last_event(db)
    assert (event.action, event.outcome, event.actor_id) == ("auth.login", "failure", None)
    assert event.payload["reason"] == "unknown-user"


def test_logout_and_role_change_are_audited(
    client: TestClient, people: People, db: Database
) -> None:
    admin, rep = people.make("admin"), people.make("rep")
    people.topic("claims")
    client.patch(
        f"/users/{rep.id}",
        json={"roles": ["expert"], "expert_topics": ["claims"]},
        headers=admin.headers,
    )
    change = last_event(db)
    assert change.action == "user.roles_change"
    assert change.payload["before"] == {"roles": ["rep"], "expert_topics": []}
    assert change.payload["after"] == {"roles": ["expert"], "expert_topics": ["claims"]}
    client.post("/auth/logout", headers=admin.headers)
    assert last_event(db).action == "auth.logout"


def test_audit_trail_never_holds_passwords_or_tokens(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    client.post("/auth/token", json={"username": rep.username, "password": "a-wrong-password"})
    with db.engine.connect() as conn:
        dump = json.dumps(
            [list(map(str, row)) for row in conn.execute(text("SELECT * FROM audit_events"))]
        )
    assert PASSWORD not in dump
    assert "a-wrong-password" not in dump
    assert rep.token not in dump


def test_chain_is_gap_free_and_linked(client: TestClient, people: People, db: Database) -> None:
    rep = people.make("rep")
    ask(client, rep, people.topic("claims"))
    chain = events(db)
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(chain))
    with db.session(write=False) as session:
        report = verify_chain(session)
    assert report.ok and report.head_seq == len(chain) and report.first_bad_seq is None


def test_events_appended_together_chain_as_one_by_one(db: Database) -> None:
    ctx = AuditContext(actor=Actor(None, "import", ("system",)), request_id="import-1")
    with session_scope(db) as session:
        audit.record(session, ctx, "import.batch", target_type="import", target_id="a")
        audit.record_many(
            session,
            ctx,
            [Event("import.batch", "import", f"b{i}", {"n": i}) for i in range(3)],
        )
        audit.record(session, ctx, "import.batch", target_type="import", target_id="c")
        audit.record_many(session, ctx, [Event("import.batch", "import", "d")])
        audit.record_many(session, ctx, [])
        # Appended when the transaction commits, as its last statements.
        assert session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == 0
    chain = events(db)
    assert [e.target_id for e in chain] == ["a", "b0", "b1", "b2", "c", "d"]
    assert [e.seq for e in chain] == list(range(chain[0].seq, chain[0].seq + 6))
    assert [e.payload for e in chain[1:4]] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert all(e.prev_hash == before.hash for before, e in itertools.pairwise(chain))
    with db.session(write=False) as session:
        report = verify_chain(session)
    assert report.ok and report.events_checked == 6


def test_an_unknown_action_is_refused_before_anything_is_written(db: Database) -> None:
    with session_scope(db) as session, pytest.raises(ValueError, match="unknown audit action"):
        audit.record_many(session, AuditContext(), [Event("import.batch"), Event("nonsense")])
    assert events(db) == []


AWKWARD = [
    {"text": 'quotes " and \\ backslashes', "lines": "one\ntwo\tthree"},
    {"é": "café, naïve, Zürich", "emoji": "🛡️✅", "cjk": "保险索赔"},
    {"control": "\u0001\u001f", "nested": {"z": [1, 2.5, None, True], "a": {}}},
    {},
]


@pytest.mark.parametrize("payload", AWKWARD)
def test_the_stored_hash_is_the_hash_of_the_stored_event(db: Database, payload: dict) -> None:
    # On PostgreSQL the database finishes and hashes the event's canonical text (one
    # statement at the head); verification hashes it again in Python: they must agree
    # to the byte, whatever the event holds.
    ctx = AuditContext(
        actor=Actor(7, "ärne.o'neil", ("rep", "expert")),
        request_id="req-é",
        client_ip="2001:db8::1",
        user_agent='Mozilla/5.0 "quoted" \\ ünïcode',
    )
    for target in ("t-1", None):
        with session_scope(db) as session:
            audit.record(session, ctx, "import.batch", target_id=target, payload=payload)
    chain = events(db)
    for stored in chain:
        fields = {name: getattr(stored, name) for name in chain_module.HASHED_FIELDS}
        assert stored.hash == chain_module.event_hash(fields)
    assert chain[-1].payload == payload and chain[-1].prev_hash == chain[-2].hash
    with db.session(write=False) as session:
        assert verify_chain(session).ok


@pytest.mark.parametrize("payload", AWKWARD)
def test_the_canonical_text_around_the_head_is_the_canonical_text(payload: dict) -> None:
    fields = {name: None for name in chain_module.HASHED_FIELDS}
    fields |= {"seq": 12345, "prev_hash": "ab" * 32, "payload": payload, "action": "x"}
    fields["occurred_at"] = "2026-12-02T02:30:00.000001Z"
    before, between, after = chain_module.canonical_around_head(fields)
    text = before + fields["prev_hash"] + between + str(fields["seq"]) + after
    assert text.encode() == chain_module.canonical_bytes(fields)
