"""Admins managing users: creation, roles, expert topics, activation, listing."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import Database, session_scope
from tests.factories import People, Person, send_rejected

PROBLEM_JSON = "application/problem+json"


def new_user(**fields: Any) -> dict[str, Any]:
    return {
        "username": "newcomer",
        "display_name": "New Comer",
        "password": "a long enough password",
        "roles": ["rep"],
        **fields,
    }


def patch(client: TestClient, admin: Person, user_id: int, **fields: Any) -> Any:
    return client.patch(f"/users/{user_id}", json=fields, headers=admin.headers)


def me(client: TestClient, person: Person) -> dict[str, Any]:
    response = client.get("/me", headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_admin_creates_a_user_who_can_then_log_in(client: TestClient, people: People) -> None:
    admin = people.make("admin")
    people.topic("claims")
    response = client.post(
        "/users",
        json=new_user(roles=["rep", "expert"], expert_topics=["claims"]),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["username"] == "newcomer"
    assert created["display_name"] == "New Comer"
    assert created["roles"] == ["rep", "expert"]
    assert created["expert_topics"] == ["claims"]
    assert created["active"] is True
    assert created["reputation"] == 0
    assert "password" not in created and "password_hash" not in created

    token = people.login("newcomer", "a long enough password")
    assert me(client, Person(created["id"], "newcomer", token))["id"] == created["id"]


def test_duplicate_username_is_409(client: TestClient, people: People) -> None:
    admin = people.make("admin")
    assert client.post("/users", json=new_user(), headers=admin.headers).status_code == 201
    again = client.post("/users", json=new_user(display_name="Other"), headers=admin.headers)
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM_JSON
    assert again.json()["type"].endswith("/conflict")
    assert "newcomer" in again.json()["detail"]


def test_only_admins_create_users(client: TestClient, people: People) -> None:
    for role in ("rep", "expert", "compliance"):
        response = client.post("/users", json=new_user(), headers=people.make(role).headers)
        assert response.status_code == 403, role
        assert response.headers["content-type"] == PROBLEM_JSON


def test_admin_changes_roles_and_expert_topics_and_me_reflects_it(
    client: TestClient, people: People
) -> None:
    admin, rep = people.make("admin"), people.make("rep")
    people.topic("claims")
    people.topic("complaints")
    response = patch(
        client, admin, rep.id, roles=["rep", "expert"], expert_topics=["complaints", "claims"]
    )
    assert response.status_code == 200, response.text
    mine = me(client, rep)
    assert mine["roles"] == ["rep", "expert"]
    assert sorted(mine["expert_topics"]) == ["claims", "complaints"]


def test_admin_changes_display_name_and_active_flag(client: TestClient, people: People) -> None:
    admin, rep = people.make("admin"), people.make("rep")
    assert patch(client, admin, rep.id, display_name="Renamed Rep").status_code == 200
    assert me(client, rep)["display_name"] == "Renamed Rep"
    response = patch(client, admin, rep.id, active=False)
    assert response.json()["active"] is False


def test_dropping_the_expert_role_drops_the_expert_topics(
    client: TestClient, people: People
) -> None:
    admin, expert = people.make("admin"), people.make("expert", topics=("claims",))
    response = patch(client, admin, expert.id, roles=["rep"])
    assert response.status_code == 200, response.text
    assert response.json()["expert_topics"] == []
    assert me(client, expert)["expert_topics"] == []


def test_expert_topics_without_the_expert_role_are_refused(
    client: TestClient, people: People
) -> None:
    admin, rep = people.make("admin"), people.make("rep")
    people.topic("claims")
    response = patch(client, admin, rep.id, expert_topics=["claims"])
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in response.json()["errors"]] == ["body.expert_topics"]
    assert me(client, rep)["expert_topics"] == []


def test_creating_a_rep_with_expert_topics_is_refused(client: TestClient, people: People) -> None:
    admin = people.make("admin")
    people.topic("claims")
    response = client.post(
        "/users", json=new_user(roles=["rep"], expert_topics=["claims"]), headers=admin.headers
    )
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["body.expert_topics"]


def test_unknown_expert_topic_is_422_naming_it(client: TestClient, people: People) -> None:
    admin, rep = people.make("admin"), people.make("rep")
    people.topic("claims")
    response = patch(
        client, admin, rep.id, roles=["expert"], expert_topics=["claims", "no-such-topic"]
    )
    assert response.status_code == 422
    problem = response.json()
    assert "no-such-topic" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["body.expert_topics"]
    assert "no-such-topic" in problem["errors"][0]["message"]
    mine = me(client, rep)
    assert (mine["roles"], mine["expert_topics"]) == (["rep"], [])


def test_creating_a_user_with_an_unknown_topic_is_422_naming_it(
    client: TestClient, people: People
) -> None:
    admin = people.make("admin")
    response = client.post(
        "/users", json=new_user(roles=["expert"], expert_topics=["ghosts"]), headers=admin.headers
    )
    assert response.status_code == 422
    assert "ghosts" in response.json()["detail"]
    listed = client.get("/users", headers=admin.headers).json()["items"]
    assert "newcomer" not in [u["username"] for u in listed]


def test_the_last_active_admin_cannot_be_demoted(client: TestClient, people: People) -> None:
    admin = people.make("admin")
    response = patch(client, admin, admin.id, roles=["rep"])
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/conflict")
    assert me(client, admin)["roles"] == ["admin"]


def test_the_last_active_admin_cannot_be_deactivated(client: TestClient, people: People) -> None:
    admin = people.make("admin")
    response = patch(client, admin, admin.id, active=False)
    assert response.status_code == 409
    assert me(client, admin)["active"] is True


def test_an_inactive_admin_does_not_count_as_another_admin(
    client: TestClient, people: People
) -> None:
    admin, dormant = people.make("admin"), people.make("admin")
    assert patch(client, admin, dormant.id, active=False).status_code == 200
    assert patch(client, admin, admin.id, roles=["rep"]).status_code == 409


def test_an_admin_can_step_down_once_another_admin_exists(
    client: TestClient, people: People
) -> None:
    admin, successor = people.make("admin"), people.make("admin")
    response = patch(client, successor, admin.id, roles=["rep"])
    assert response.status_code == 200, response.text
    assert me(client, admin)["roles"] == ["rep"]
    assert client.get("/users", headers=admin.headers).status_code == 403


def test_changing_an_unknown_user_is_404(client: TestClient, people: People) -> None:
    response = patch(client, people.make("admin"), 4242, display_name="Nobody")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


def test_only_admins_list_users(client: TestClient, people: People) -> None:
    assert client.get("/users", headers=people.make("rep").headers).status_code == 403
    assert client.get("/users", headers=people.make("compliance").headers).status_code == 403


def test_users_list_pages_through_everyone_once(client: TestClient, people: People) -> None:
    admin = people.make("admin")
    everyone = [admin.id] + [people.make("rep").id for _ in range(6)]
    seen: list[int] = []
    pages = 0
    url = "/users?limit=3"
    while url:
        response = client.get(url, headers=admin.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 3
        seen += [user["id"] for user in body["items"]]
        pages += 1
        url = f"/users?limit=3&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert pages == 3
    assert seen == sorted(everyone)


def test_an_email_address_is_kept_changed_removed_and_audited(
    client: TestClient, people: People, db: Database
) -> None:
    admin = people.make("admin")
    created = client.post(
        "/users", json=new_user(email="newcomer@example.com"), headers=admin.headers
    ).json()
    assert created["email"] == "newcomer@example.com"
    changed = patch(client, admin, created["id"], email="new.comer@example.org")
    assert changed.status_code == 200 and changed.json()["email"] == "new.comer@example.org"
    removed = patch(client, admin, created["id"], email="")
    assert removed.status_code == 200 and removed.json()["email"] is None
    untouched = patch(client, admin, created["id"], display_name="Renamed")
    assert untouched.json()["email"] is None
    with session_scope(db) as session:
        updates = session.execute(
            select(AuditEvent.payload)
            .where(AuditEvent.action == "user.update", AuditEvent.target_id == str(created["id"]))
            .order_by(AuditEvent.seq)
        ).scalars()
        assert [p["after"] for p in updates] == [
            {"email": "new.comer@example.org"},
            {"email": None},
            {"display_name": "Renamed"},
        ]


def test_an_invalid_email_address_is_422_and_writes_nothing(
    client: TestClient, people: People, db: Database
) -> None:
    admin = people.make("admin")
    target = people.make("rep")
    tables = ("users", "audit_events")
    for bad in (
        "not-an-address",
        "a@b",
        "two@@example.com",
        "x" * 250 + "@example.com",
        "a b@c.de",
    ):
        send_rejected(client, db, admin, "POST", "/users", json=new_user(email=bad), tables=tables)
        send_rejected(
            client, db, admin, "PATCH", f"/users/{target.id}", json={"email": bad}, tables=tables
        )
    assert me(client, target)["email"] is None
