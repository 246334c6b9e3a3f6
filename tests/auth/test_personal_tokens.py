"""Personal access tokens through the API: made, listed and revoked by their holder, each
a bearer token like a sign-in's, audited without their secret."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.audit.models import AuditEvent
from app.db import Database, utcnow
from app.schemas import MAX_ID
from tests.factories import People, Person

DEAD = "The token is unknown, expired or revoked."


def _make(
    client: TestClient, person: Person, name: str = "nightly report", **body: Any
) -> dict[str, Any]:
    response = client.post("/auth/tokens", json={"name": name, **body}, headers=person.headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    made: dict[str, Any] = response.json()
    return made


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _events(db: Database, *actions: str) -> list[AuditEvent]:
    with db.session(write=False) as session:
        query = select(AuditEvent).where(AuditEvent.action.in_(actions)).order_by(AuditEvent.seq)
        return list(session.execute(query).scalars())


def _personal_rows(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM api_tokens WHERE name IS NOT NULL")
            ).scalar_one()
        )


def test_a_new_token_is_shown_once_and_authenticates_as_its_holder(
    client: TestClient, people: People
) -> None:
    rep = people.make("rep")

    made = _make(client, rep, expires_in_days=7)

    assert set(made) == {"id", "name", "created_at", "expires_at", "token"}
    assert made["name"] == "nightly report"
    me = client.get("/me", headers=_bearer(made["token"]))
    assert me.status_code == 200
    assert me.json()["username"] == rep.username
    listed = client.get("/auth/tokens", headers=rep.headers).json()["items"]
    assert [t["id"] for t in listed] == [made["id"]]
    assert "token" not in listed[0] and made["token"] not in json.dumps(listed)


def test_the_expiry_defaults_to_30_days_and_follows_the_days_asked(
    client: TestClient, people: People
) -> None:
    rep = people.make("rep")

    default = _make(client, rep, "default")
    year = _make(client, rep, "a year", expires_in_days=365)

    def days(made: dict[str, Any]) -> float:
        created = made["created_at"].replace("Z", "+00:00")
        expires = made["expires_at"].replace("Z", "+00:00")
        span = datetime.fromisoformat(expires) - datetime.fromisoformat(created)
        return span / timedelta(days=1)

    assert days(default) == pytest.approx(30, abs=0.01)
    assert days(year) == pytest.approx(365, abs=0.01)


def test_the_list_holds_only_my_personal_tokens_newest_first(
    client: TestClient, people: People
) -> None:
    rep, other = people.make("rep"), people.make("expert")
    first = _make(client, rep, "first")
    second = _make(client, rep, "second")
    _make(client, other, "someone else's")

    listed = client.get("/auth/tokens", headers=rep.headers).json()["items"]

    # Not the sign-in token `rep.headers` holds, and not the other person's.
    assert [t["id"] for t in listed] == [second["id"], first["id"]]
    assert listed[0]["revoked_at"] is None


def test_a_revoked_token_is_refused_and_listed_as_revoked(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    made = _make(client, rep)

    response = client.delete(f"/auth/tokens/{made['id']}", headers=rep.headers)

    assert response.status_code == 204
    refused = client.get("/me", headers=_bearer(made["token"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == DEAD
    listed = client.get("/auth/tokens", headers=rep.headers).json()["items"]
    assert listed[0]["revoked_at"] is not None
    assert client.get("/me", headers=rep.headers).status_code == 200  # the sign-in stays


def test_revoking_twice_is_a_conflict(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    made = _make(client, rep)
    assert client.delete(f"/auth/tokens/{made['id']}", headers=rep.headers).status_code == 204

    again = client.delete(f"/auth/tokens/{made['id']}", headers=rep.headers)

    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_an_expired_token_is_refused(client: TestClient, people: People, db: Database) -> None:
    rep = people.make("rep")
    made = _make(client, rep)
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE api_tokens SET expires_at = :at WHERE id = :id"),
            {"at": utcnow() - timedelta(seconds=1), "id": made["id"]},
        )

    refused = client.get("/me", headers=_bearer(made["token"]))

    assert refused.status_code == 401
    assert refused.json()["detail"] == DEAD


def test_deactivating_the_holder_ends_their_personal_tokens(
    client: TestClient, people: People
) -> None:
    rep, admin = people.make("rep"), people.make("admin")
    made = _make(client, rep)

    response = client.patch(f"/users/{rep.id}", json={"active": False}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert client.get("/me", headers=_bearer(made["token"])).status_code == 401


@pytest.mark.parametrize("whose", ["another person's", "a sign-in token", "unknown"])
def test_only_my_own_personal_tokens_can_be_revoked(
    client: TestClient, people: People, db: Database, whose: str
) -> None:
    rep, other = people.make("rep"), people.make("rep")
    theirs = _make(client, other)
    with db.engine.connect() as conn:
        sign_in_id = conn.execute(
            text("SELECT max(id) FROM api_tokens WHERE user_id = :id AND name IS NULL"),
            {"id": rep.id},
        ).scalar_one()
    token_id = {"another person's": theirs["id"], "a sign-in token": sign_in_id}.get(whose, MAX_ID)

    response = client.delete(f"/auth/tokens/{token_id}", headers=rep.headers)

    assert response.status_code == 404
    assert client.get("/me", headers=_bearer(theirs["token"])).status_code == 200
    assert client.get("/me", headers=rep.headers).status_code == 200


def test_a_personal_token_cannot_make_another(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    made = _make(client, rep)

    response = client.post(
        "/auth/tokens", json={"name": "offspring"}, headers=_bearer(made["token"])
    )

    assert response.status_code == 403
    assert response.json()["type"] == "/problems/personal-token-mints"
    # It may still list and revoke: giving up access is always allowed.
    assert client.get("/auth/tokens", headers=_bearer(made["token"])).status_code == 200
    revoked = client.delete(f"/auth/tokens/{made['id']}", headers=_bearer(made["token"]))
    assert revoked.status_code == 204


BAD_BODIES = {
    "no name": {"expires_in_days": 30},
    "empty name": {"name": ""},
    "blank name": {"name": "   "},
    "name too long": {"name": "x" * 101},
    "two lines": {"name": "report\nsecond line"},
    "zero days": {"name": "report", "expires_in_days": 0},
    "too many days": {"name": "report", "expires_in_days": 366},
    "days not a number": {"name": "report", "expires_in_days": "soon"},
    "days as text": {"name": "report", "expires_in_days": "30"},
    "days as a boolean": {"name": "report", "expires_in_days": True},
    "unknown field": {"name": "report", "scopes": ["admin"]},
}


@pytest.mark.parametrize("case", BAD_BODIES)
def test_a_bad_body_is_a_422_that_writes_nothing(
    client: TestClient, people: People, db: Database, case: str
) -> None:
    rep = people.make("rep")

    response = client.post("/auth/tokens", json=BAD_BODIES[case], headers=rep.headers)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _personal_rows(db) == 0
    assert _events(db, "auth.token_create") == []


def test_making_and_revoking_are_audited_without_the_secret(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    made = _make(client, rep, "deploy script", expires_in_days=10)
    client.delete(f"/auth/tokens/{made['id']}", headers=rep.headers)

    created, revoked = _events(db, "auth.token_create", "auth.token_revoke")

    assert (created.action, created.actor_username) == ("auth.token_create", rep.username)
    assert (created.target_type, created.target_id) == ("api_token", str(made["id"]))
    assert created.payload["token_id"] == made["id"]
    assert created.payload["name"] == "deploy script"
    assert created.payload["expires_at"].startswith(made["expires_at"][:19])
    assert revoked.action == "auth.token_revoke"
    assert revoked.payload == {"token_id": made["id"], "name": "deploy script"}
    # The secret is nowhere in the audit trail nor in the token table.
    with db.engine.connect() as conn:
        trail = json.dumps(
            [list(r) for r in conn.execute(text("SELECT * FROM audit_events"))], default=str
        )
        tokens = json.dumps(
            [list(r) for r in conn.execute(text("SELECT * FROM api_tokens"))], default=str
        )
    assert made["token"] not in trail
    assert made["token"] not in tokens


def test_the_secret_never_reaches_the_log(
    client: TestClient, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    rep = people.make("rep")
    with caplog.at_level("DEBUG"):
        made = _make(client, rep)
        client.get("/me", headers=_bearer(made["token"]))
        client.delete(f"/auth/tokens/{made['id']}", headers=rep.headers)

    assert made["token"] not in caplog.text
