"""The token check of read-only search endpoints (one query, no session) refuses exactly
what the full check refuses, and survives database connections that died."""

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import Database
from tests.factories import People, Person

# Endpoints on the session-based check (`/me`) and on the one-query check (search).
CHECKED = ["/me", "/search?q=claim", "/questions/similar?title=claim"]


def _refused(client: TestClient, person: Person, path: str, detail: str) -> None:
    response = client.get(path, headers=person.headers)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == detail


def _log_out(client: TestClient, db: Database, person: Person) -> None:
    assert client.post("/auth/logout", headers=person.headers).status_code == 204


def _expire(client: TestClient, db: Database, person: Person) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = created_at"))


def _deactivate(client: TestClient, db: Database, person: Person) -> None:
    # Behind the API's back: the token row stays live, the account does not.
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = false WHERE id = :id"), {"id": person.id})


DEAD = "The token is unknown, expired or revoked."
ENDINGS: dict[str, tuple[Callable[[TestClient, Database, Person], None], str]] = {
    "logged out": (_log_out, DEAD),
    "expired": (_expire, DEAD),
    "account deactivated": (_deactivate, "The account is deactivated."),
}


@pytest.mark.parametrize("path", CHECKED)
@pytest.mark.parametrize("ending", ENDINGS)
def test_a_token_that_ended_is_refused(
    client: TestClient, people: People, db: Database, path: str, ending: str
) -> None:
    rep = people.make("rep")
    end, detail = ENDINGS[ending]
    end(client, db, rep)
    _refused(client, rep, path, detail)


@pytest.mark.parametrize("path", CHECKED)
def test_an_unknown_token_is_refused(client: TestClient, people: People, path: str) -> None:
    stranger = Person(id=0, username="nobody", token="not-a-token")
    _refused(client, stranger, path, DEAD)


def test_the_check_reconnects_after_the_database_dropped_its_connections(
    backend: str, client: TestClient, people: People, db: Database
) -> None:
    if backend != "postgres":
        pytest.skip("drops server connections: PostgreSQL only (run with --db postgres)")
    rep = people.make("rep")
    _log_out(client, db, rep)
    path = "/search?q=claim"
    _refused(client, rep, path, DEAD)  # pools a connection
    with db.engine.connect() as conn:
        dropped = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    assert dropped >= 1
    # The pooled connection is dead; the check notices, takes a new one and answers.
    _refused(client, rep, path, DEAD)
