from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import PASSWORD, People


def test_login_returns_bearer_token_that_identifies_the_user(
    client: TestClient, people: People
) -> None:
    rep = people.make("rep")
    response = client.post("/auth/token", json={"username": rep.username, "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_at"].endswith("Z")
    me = client.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json()["username"] == rep.username
    assert me.json()["roles"] == ["rep"]


def test_wrong_password_is_401_problem(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    response = client.post("/auth/token", json={"username": rep.username, "password": "nope-nope"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/invalid-credentials")


def test_logout_revokes_the_token(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    assert client.post("/auth/logout", headers=rep.headers).status_code == 204
    assert client.get("/me", headers=rep.headers).status_code == 401
    assert client.post("/auth/logout", headers=rep.headers).status_code == 401


def test_garbage_token_is_401_with_challenge(client: TestClient) -> None:
    response = client.get("/me", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_token_stored_only_as_hash(client: TestClient, people: People, db: Database) -> None:
    rep = people.make("rep")
    from sqlalchemy import text

    with db.engine.connect() as conn:
        hashes = [row[0] for row in conn.execute(text("SELECT token_hash FROM api_tokens"))]
    assert hashes
    assert rep.token not in hashes


def test_deactivated_user_loses_tokens_and_cannot_log_in(
    client: TestClient, people: People
) -> None:
    admin, rep = people.make("admin"), people.make("rep")
    assert client.get("/me", headers=rep.headers).status_code == 200
    response = client.patch(f"/users/{rep.id}", json={"active": False}, headers=admin.headers)
    assert response.status_code == 200
    assert client.get("/me", headers=rep.headers).status_code == 401
    login = client.post("/auth/token", json={"username": rep.username, "password": PASSWORD})
    assert login.status_code == 401


def test_expired_token_is_refused(settings: Settings, db: Database, people: People) -> None:
    rep = people.make("rep")
    from sqlalchemy import text

    with db.engine.begin() as conn:
        conn.execute(text("UPDATE api_tokens SET expires_at = created_at"))
    with TestClient(create_app(settings, db), base_url="http://testserver/api/v1") as c:
        assert c.get("/me", headers=rep.headers).status_code == 401


def test_login_is_rate_limited_per_account(
    settings: Settings, db: Database, people: People
) -> None:
    rep = people.make("rep")
    limited = settings.model_copy(update={"login_attempts_per_minute": 3})
    with TestClient(create_app(limited, db), base_url="http://testserver/api/v1") as c:
        for _ in range(3):
            assert (
                c.post(
                    "/auth/token", json={"username": rep.username, "password": "x" * 8}
                ).status_code
                == 401
            )
        blocked = c.post("/auth/token", json={"username": rep.username, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["type"].endswith("/rate-limited")


def test_login_is_rate_limited_per_client(settings: Settings, db: Database, people: People) -> None:
    limited = settings.model_copy(update={"login_attempts_per_minute": 3})
    with TestClient(create_app(limited, db), base_url="http://testserver/api/v1") as c:
        for n in range(3):
            c.post("/auth/token", json={"username": f"someone{n}", "password": "x" * 8})
        blocked = c.post("/auth/token", json={"username": "yet-another", "password": "x" * 8})
    assert blocked.status_code == 429
