"""Audit events cannot be changed: a PostgreSQL trigger refuses it, and so does the ORM."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.db import Database, create_db_engine
from app.migrate import downgrade, upgrade
from tests.conftest import DatabaseFactory
from tests.factories import People


@pytest.fixture
def on_postgres(backend: str) -> None:
    if backend != "postgres":
        pytest.skip("the write-once trigger exists on PostgreSQL only (run with --db postgres)")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET outcome = 'forged' WHERE seq = 1",
        "DELETE FROM audit_events WHERE seq = 1",
        "TRUNCATE audit_events",
    ],
)
def test_postgres_refuses_to_change_or_remove_events(
    on_postgres: None, people: People, db: Database, statement: str
) -> None:
    people.make("rep")  # a few events
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    with db.session(write=False) as session:
        assert verify_chain(session).ok


def test_the_orm_refuses_to_change_or_remove_events(people: People, db: Database) -> None:
    people.make("rep")
    with db.session() as session:
        event = session.execute(select(AuditEvent).limit(1)).scalar_one()
        event.outcome = "forged"
        with pytest.raises(RuntimeError, match="write-once"):
            session.flush()
        session.rollback()
        session.delete(session.execute(select(AuditEvent).limit(1)).scalar_one())
        with pytest.raises(RuntimeError, match="write-once"):
            session.flush()


def _triggers(url: str) -> set[str]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_events'::regclass"
            return set(conn.execute(text(query)).scalars())
    finally:
        engine.dispose()


def test_the_write_once_migration_adds_the_triggers_and_reverts(
    on_postgres: None, databases: DatabaseFactory
) -> None:
    url = databases.empty_url()
    upgrade(url, "0002")
    assert _triggers(url) >= {"audit_events_write_once", "audit_events_no_truncate"}
    downgrade(url, "0001")
    assert not {"audit_events_write_once", "audit_events_no_truncate"} & _triggers(url)
    upgrade(url)
    assert "audit_events_write_once" in _triggers(url)
