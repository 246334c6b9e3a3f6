"""Compliance exports the trail as NDJSON or CSV, filtered, streamed, and audited itself."""

import csv
import io
import json
import time
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from app.audit import export, reading
from app.audit.export import COLUMNS, ExportFilter, ExportFormat
from app.audit.models import AuditEvent
from app.audit.offline import verify_lines
from app.config import Settings
from app.db import Database, session_scope
from app.main import create_app
from tests.audit.bulk import append_events
from tests.factories import SETUP, People, Person, ask
from tests.support.live_server import live_server


@pytest.fixture
def officer(people: People) -> Person:
    return people.make("compliance")


@pytest.fixture
def activity(client: TestClient, people: People) -> dict[str, Any]:
    """Two reps asking and editing: a small but varied trail."""
    alice, bob = people.make("rep", username="alice"), people.make("rep", username="bob")
    topic = people.topic("claims")
    question = ask(client, alice, topic)
    client.patch(f"/questions/{question['id']}", json={"body": "Edited."}, headers=alice.headers)
    ask(client, bob, topic)
    return {"alice": alice, "bob": bob, "question": question}


def events_of(response_text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in response_text.splitlines()]


def count(db: Database) -> int:
    with db.session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())


def last_event(db: Database) -> AuditEvent:
    with db.session(write=False) as session:
        latest = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        return session.execute(latest).scalar_one()


def test_export_streams_the_whole_trail_as_ndjson_ending_with_its_own_event(
    client: TestClient, officer: Person, activity: dict[str, Any], db: Database
) -> None:
    response = client.get("/audit/events", headers=officer.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert "attachment" in response.headers["content-disposition"]
    events = events_of(response.text)
    assert [e["seq"] for e in events] == list(range(1, count(db) + 1))
    assert all(tuple(e) == COLUMNS for e in events)
    assert events[-1]["action"] == "audit.export"
    assert int(response.headers["x-audit-export-seq"]) == events[-1]["seq"]
    report = verify_lines(response.text.splitlines())
    assert (report.ok, report.head_seq) == (True, events[-1]["seq"])


def test_each_export_is_audited_with_who_and_what_filter(
    client: TestClient, officer: Person, activity: dict[str, Any], db: Database
) -> None:
    response = client.get(
        "/audit/events",
        params={"format": "csv", "actor": "alice", "since": "2020-01-01T00:00:00+01:00"},
        headers={**officer.headers, "X-Request-ID": "export-1"},
    )
    assert response.status_code == 200
    event = last_event(db)
    assert (event.action, event.actor_username, event.request_id) == (
        "audit.export",
        officer.username,
        "export-1",
    )
    assert event.payload == {
        "filter": {"actor": "alice", "since": "2019-12-31T23:00:00.000000Z"},
        "format": "csv",
    }
    assert int(response.headers["x-audit-export-seq"]) == event.seq


@pytest.mark.parametrize(
    ("params", "matches"),
    [
        ({"actor": "alice"}, lambda e: e["actor_username"] == "alice"),
        ({"action": "question.create"}, lambda e: e["action"] == "question.create"),
        ({"target_type": "question"}, lambda e: e["target_type"] == "question"),
        (
            {"target_type": "question", "target_id": "1"},
            lambda e: (e["target_type"], e["target_id"]) == ("question", "1"),
        ),
    ],
    ids=["actor", "action", "target_type", "target"],
)
def test_export_keeps_exactly_the_events_matching_the_filter(
    client: TestClient,
    officer: Person,
    activity: dict[str, Any],
    params: dict[str, str],
    matches: Any,
) -> None:
    everything = events_of(client.get("/audit/events", headers=officer.headers).text)
    response = client.get("/audit/events", params=params, headers=officer.headers)
    filtered = events_of(response.text)
    assert filtered, "the filter should match something"
    assert filtered == [e for e in everything if matches(e)]


def test_since_is_inclusive_and_until_exclusive(
    client: TestClient, officer: Person, activity: dict[str, Any]
) -> None:
    everything = events_of(client.get("/audit/events", headers=officer.headers).text)
    first, last = everything[2], everything[5]
    params = {"since": first["occurred_at"], "until": last["occurred_at"]}
    window = events_of(client.get("/audit/events", params=params, headers=officer.headers).text)
    assert [e["seq"] for e in window] == [e["seq"] for e in everything[2:5]]


def test_a_filtered_export_verifies_as_a_partial_one(
    client: TestClient, officer: Person, activity: dict[str, Any]
) -> None:
    lines = client.get("/audit/events?actor=bob", headers=officer.headers).text.splitlines()
    assert verify_lines(lines).ok is False  # not the whole chain...
    report = verify_lines(lines, partial=True)  # ...but every event in it is genuine
    assert (report.ok, report.events_checked) == (True, len(lines))


def test_csv_export_holds_the_same_events_with_a_header(
    client: TestClient, officer: Person, activity: dict[str, Any]
) -> None:
    ndjson = events_of(client.get("/audit/events", headers=officer.headers).text)
    response = client.get("/audit/events?format=csv", headers=officer.headers)
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == COLUMNS
    by_seq = {int(r["seq"]): r for r in rows}
    for event in ndjson:
        row = by_seq[event["seq"]]
        assert (row["hash"], row["action"]) == (event["hash"], event["action"])
        assert json.loads(row["payload"]) == event["payload"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=yesterday", "query.since"),
        ("until=2026-13-45", "query.until"),
        ("since=2026-02-01&until=2026-01-01", "query.until"),
        ("format=xml", "query.format"),
        ("action=question.explode", "query.action"),
        ("actr=alice", "query.actr"),
        ("since=0001-01-01T00:00:00%2B05:00", "query.since"),
    ],
    ids=[
        "malformed since",
        "malformed until",
        "until before since",
        "unknown format",
        "unknown action",
        "misspelt filter",
        "time out of range",
    ],
)
def test_bad_export_requests_get_a_422_problem_and_write_nothing(
    client: TestClient, officer: Person, db: Database, query: str, field: str
) -> None:
    before = count(db)
    response = client.get(f"/audit/events?{query}", headers=officer.headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert count(db) == before


@pytest.mark.parametrize("role", ["rep", "expert", "admin"])
def test_only_compliance_may_export_and_a_refusal_writes_nothing(
    client: TestClient, people: People, db: Database, role: str
) -> None:
    person = people.make(role)
    before = count(db)
    response = client.get("/audit/events", headers=person.headers)
    assert response.status_code == 403
    assert response.json()["type"] == "/problems/forbidden"
    assert count(db) == before


def test_export_reads_in_batches_without_losing_or_repeating_events(
    client: TestClient,
    officer: Person,
    activity: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(export, "EXPORT_BATCH", 3)
    events = events_of(client.get("/audit/events", headers=officer.headers).text)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert verify_lines(json.dumps(e) for e in events).ok


def test_events_appended_while_an_export_streams_are_left_out(
    client: TestClient, people: People, db: Database
) -> None:
    officer = people.make("compliance")
    with session_scope(db) as session:
        through = export.start_export(session, SETUP, ExportFilter(), ExportFormat.ndjson)
    batches = export.export_batches(db.engine, ExportFilter(), through, ExportFormat.ndjson)
    people.make("rep")  # appended after the export began
    lines = b"".join(data for _, data in batches).decode().splitlines()
    assert json.loads(lines[-1])["seq"] == through
    assert client.get("/audit/verify", headers=officer.headers).json()["head_seq"] > through


STUCK_SESSIONS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
      AND state LIKE 'idle in transaction%'
"""


def open_transactions(db: Database) -> int:
    if db.engine.dialect.name != "postgresql":
        return 0
    with db.engine.connect() as conn:
        return int(conn.execute(text(STUCK_SESSIONS)).scalar_one())


def test_a_client_leaving_mid_export_leaves_no_broken_state(
    settings: Settings,
    db: Database,
    people: People,
    officer: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 30 MB in 1 MB batches: far more than socket buffers hold, so the server is still
    # reading batches when the client goes.
    append_events(db, 1_500, payload_bytes=20_000)
    monkeypatch.setattr(export, "EXPORT_BATCH", 50)
    batches_read = []
    fetch = reading.fetch_stored

    def counting_fetch(*args: Any, **kwargs: Any) -> Any:
        batches_read.append(1)
        return fetch(*args, **kwargs)

    monkeypatch.setattr(reading, "fetch_stored", counting_fetch)
    with live_server(create_app(settings, db)) as url, httpx.Client(base_url=url) as http:
        with http.stream("GET", "/api/v1/audit/events", headers=officer.headers) as response:
            assert response.status_code == 200
            next(response.iter_bytes())
        # The server notices and stops reading (at most a batch later); nothing stays open.
        settled, deadline = 0, time.monotonic() + 10
        while settled < 5 and time.monotonic() < deadline:
            before = len(batches_read)
            time.sleep(0.1)
            idle = db.engine.pool.checkedout() == 0 and open_transactions(db) == 0
            settled = settled + 1 if idle and len(batches_read) == before else 0
        assert settled == 5, "the export kept reading or held a connection after the client left"
        assert len(batches_read) < 1_500 // 50
        # A writer gets in at once, and the trail is whole.
        people.make("rep")
        again = http.get("/api/v1/audit/events?action=audit.export", headers=officer.headers)
        assert len(again.text.splitlines()) == 2
        verified = http.get("/api/v1/audit/verify", headers=officer.headers).json()
        assert verified["ok"] is True
