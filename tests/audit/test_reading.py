"""The fast read path agrees with the chain's own definitions, and never decides alone."""

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from app.audit import reading
from app.audit.chain import format_timestamp
from app.audit.offline import verify_lines
from app.audit.service import verify_chain
from app.db import Database
from tests.audit import tampering
from tests.audit.bulk import append_events
from tests.factories import People

TIMES = [
    datetime(2026, 1, 1, 0, 0, 0, 0, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2024, 2, 29, 12, 0, 0, 5, tzinfo=UTC),
    datetime(1999, 7, 4, 9, 8, 7, 60_000, tzinfo=UTC),
]


def test_the_database_formats_times_exactly_as_format_timestamp(db: Database) -> None:
    head = append_events(db, len(TIMES))
    with tampering.tampering(db) as conn:
        for seq, when in zip(range(head - len(TIMES) + 1, head + 1), TIMES, strict=True):
            events = tampering.EVENTS
            conn.execute(update(events).where(events.c.seq == seq).values(occurred_at=when))
        rows = reading.fetch_stored(conn, after=head - len(TIMES), through=head)
    assert [row.occurred_at for row in rows] == [format_timestamp(t) for t in TIMES]


def test_an_authentic_event_stored_in_another_json_layout_still_verifies(
    people: People, db: Database
) -> None:
    people.make("rep")
    with tampering.tampering(db) as conn:
        bind = "CAST(:p AS JSON)" if conn.dialect.name == "postgresql" else ":p"
        # Same value, spaced and unsorted as a plain json.dumps would store it.
        conn.execute(
            text(f"UPDATE audit_events SET actor_roles = {bind} WHERE seq = 1"),
            {"p": '[ "system" ]'},
        )
    with db.session(write=False) as session:
        report = verify_chain(session)
    assert report.ok, report.reason


def test_json_that_does_not_parse_is_reported_not_a_crash(
    people: People, db: Database, backend: str
) -> None:
    if backend == "postgres":
        pytest.skip("PostgreSQL's json type refuses text that is not JSON")
    people.make("rep")
    with tampering.tampering(db) as conn:
        conn.execute(text("UPDATE audit_events SET payload = '{\"broken' WHERE seq = 2"))
    with db.session(write=False) as session:
        report = verify_chain(session)
    assert (report.ok, report.first_bad_seq) == (False, 2)


def test_values_of_the_wrong_type_are_reported_and_still_exported(
    client: TestClient, people: People, db: Database, backend: str
) -> None:
    if backend == "postgres":
        pytest.skip("PostgreSQL keeps every column to its type")
    officer = people.make("compliance")
    with tampering.tampering(db) as conn:
        conn.execute(
            text("UPDATE audit_events SET actor_id = 'x', occurred_at = 'a\"b' WHERE seq = 2")
        )
        conn.execute(text("UPDATE audit_events SET payload = 42, actor_username = 7 WHERE seq = 3"))
    report = client.get("/audit/verify", headers=officer.headers).json()
    assert (report["ok"], report["first_bad_seq"]) == (False, 2)
    response = client.get("/audit/events", headers=officer.headers)
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert verify_lines(lines).first_bad_seq == 2
