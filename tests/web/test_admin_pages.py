"""The admin pages: users, roles, expert topics, deactivation, topics and signposts."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import Database
from app.topics.models import Topic
from app.users.models import User
from tests.factories import PASSWORD, People, Person, count_rows
from tests.web.helpers import sign_in, submit

WRITES = ("users", "user_expert_topics", "topics", "resources", "api_tokens", "audit_events")


@pytest.fixture
def admin(people: People) -> Person:
    return people.make("admin")


def field_error(html: str, name: str) -> str:
    """The message shown beside field `name`."""
    found = re.search(rf'id="{name}-error">([^<]*)<', html)
    assert found, f"no error beside {name}"
    return found.group(1)


def user_named(db: Database, username: str) -> User | None:
    with db.session(write=False) as session:
        return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def topic_named(db: Database, slug: str) -> Topic:
    with db.session(write=False) as session:
        return session.execute(select(Topic).where(Topic.slug == slug)).scalar_one()


def actions_since(db: Database, seq: int) -> list[str]:
    with db.session(write=False) as session:
        query = select(AuditEvent.action).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
        return list(session.execute(query).scalars())


def head(db: Database) -> int:
    with db.session(write=False) as session:
        return max(session.execute(select(AuditEvent.seq)).scalars(), default=0)


NEW_USER = {
    "username": "new.expert",
    "display_name": "New Expert",
    "password": "a-long-password",
    "roles": ["expert"],
    "expert_topics": ["claims"],
}


@pytest.mark.parametrize("role", ["rep", "expert", "compliance"])
def test_only_admins_reach_the_admin_pages(
    pages: TestClient, people: People, db: Database, role: str
) -> None:
    people.topic("claims")
    person = people.make(role)
    csrf = sign_in(pages, person.username)
    for path in ("/admin", "/admin/users/new", f"/admin/users/{person.id}", "/admin/topics/new"):
        response = pages.get(path)
        assert response.status_code == 403, path
        assert "Create a user" not in response.text
    before = count_rows(db, WRITES)
    assert submit(pages, "/admin/users/new", NEW_USER, csrf).status_code == 403
    assert submit(pages, "/admin/topics/claims", {"name": "Taken"}, csrf).status_code == 403
    assert count_rows(db, WRITES) == before


def test_the_admin_page_lists_users_with_roles_topics_and_status(
    pages: TestClient, people: People, admin: Person
) -> None:
    expert = people.make("expert", topics=("home-claims",))
    sign_in(pages, admin.username)
    with_expert = pages.get("/admin").text
    row = with_expert[with_expert.index(f"/admin/users/{expert.id}") :]
    row = row[: row.index("</tr>")]
    assert "expert" in row and "Home-Claims" in row and "Active" in row
    assert '<a href="/admin/topics/home-claims">Home-Claims</a>' in with_expert
    assert "never stale" in with_expert


def test_the_users_list_pages_on(pages: TestClient, people: People, admin: Person) -> None:
    for _ in range(25):
        people.make("rep")
    last = people.make("rep")
    sign_in(pages, admin.username)
    first = pages.get("/admin").text
    assert f"/admin/users/{last.id}" not in first
    more = re.search(r'href="(/admin\?cursor=[^"]+)" rel="next">More users', first)
    assert more
    second = pages.get(more.group(1).replace("&amp;", "&")).text
    assert f"/admin/users/{last.id}" in second
    assert f"/admin/users/{admin.id}" not in second


def test_an_admin_creates_an_expert_who_can_then_sign_in(
    client: TestClient, pages: TestClient, people: People, admin: Person, db: Database
) -> None:
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    response = submit(pages, "/admin/users/new", NEW_USER, csrf)
    assert response.status_code == 303
    created = user_named(db, "new.expert")
    assert created is not None
    assert response.headers["location"] == f"/admin/users/{created.id}"
    assert created.roles == ["expert"]
    page = pages.get(response.headers["location"]).text
    assert "Created New Expert (new.expert)." in page
    assert "Claims" in page
    token = client.post(
        "/auth/token", json={"username": "new.expert", "password": "a-long-password"}
    )
    assert token.status_code == 200


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"username": "No Spaces"}, "username", "lowercase letters"),
        ({"roles": []}, "roles", "Choose one or more"),
        ({"password": "short"}, "password", "Use at least 12"),
        ({"password": "new.expert-1234"}, "password", "must not contain the username"),
        ({"password": "administrator"}, "password", "commonly used passwords"),
        ({"display_name": ""}, "display_name", "Enter the name"),
        ({"roles": ["rep"]}, "expert_topics", "only experts"),
        ({"expert_topics": ["no-such-topic"]}, "expert_topics", "unknown topic"),
        ({"email": "not-an-address"}, "email", "Enter an email address"),
    ],
)
def test_a_refused_new_user_keeps_the_input_but_not_the_password(
    pages: TestClient,
    people: People,
    admin: Person,
    db: Database,
    change: dict[str, Any],
    field: str,
    message: str,
) -> None:
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    before = count_rows(db, WRITES)
    response = submit(pages, "/admin/users/new", {**NEW_USER, **change}, csrf)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert f'value="{change.get("display_name", "New Expert")}"' in response.text
    assert "a-long-password" not in response.text
    assert count_rows(db, WRITES) == before


def test_a_taken_username_is_refused_beside_the_field(
    pages: TestClient, people: People, admin: Person, db: Database
) -> None:
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    before = count_rows(db, WRITES)
    response = submit(pages, "/admin/users/new", {**NEW_USER, "username": admin.username}, csrf)
    assert response.status_code == 409
    assert "is taken" in field_error(response.text, "username")
    assert count_rows(db, WRITES) == before


def test_an_admin_changes_a_users_name_roles_and_expert_topics(
    pages: TestClient, people: People, admin: Person, db: Database
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    csrf = sign_in(pages, admin.username)
    seq = head(db)
    form = {"display_name": "Renamed Rep", "roles": ["rep", "expert"], "expert_topics": ["claims"]}
    response = submit(pages, f"/admin/users/{rep.id}", form, csrf)
    assert response.status_code == 303
    changed = user_named(db, rep.username)
    assert changed is not None
    assert (changed.display_name, changed.roles) == ("Renamed Rep", ["rep", "expert"])
    assert actions_since(db, seq) == ["user.update", "user.roles_change"]
    assert "Saved the changes to Renamed Rep." in pages.get(f"/admin/users/{rep.id}").text


def test_deactivating_a_user_ends_their_sessions_and_reactivating_lets_them_back(
    client: TestClient, pages: TestClient, people: People, admin: Person, db: Database
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, admin.username)
    response = submit(pages, f"/admin/users/{rep.id}", {"active": "false"}, csrf)
    assert response.status_code == 303
    assert client.get("/me", headers=rep.headers).status_code == 401
    page = pages.get(f"/admin/users/{rep.id}").text
    assert "signed out everywhere" in page
    assert "Reactivate" in page
    submit(pages, f"/admin/users/{rep.id}", {"active": "true"}, csrf)
    login = client.post("/auth/token", json={"username": rep.username, "password": PASSWORD})
    assert login.status_code == 200


def test_the_last_admin_cannot_be_deactivated(
    pages: TestClient, admin: Person, db: Database
) -> None:
    csrf = sign_in(pages, admin.username)
    before = count_rows(db, WRITES)
    response = submit(pages, f"/admin/users/{admin.id}", {"active": "false"}, csrf)
    assert response.status_code == 409
    assert "last active admin" in field_error(response.text, "active")
    assert count_rows(db, WRITES) == before


def test_the_last_admin_cannot_drop_their_admin_role(
    pages: TestClient, admin: Person, db: Database
) -> None:
    csrf = sign_in(pages, admin.username)
    before = count_rows(db, WRITES)
    form = {"display_name": "Still Admin", "roles": ["rep"]}
    response = submit(pages, f"/admin/users/{admin.id}", form, csrf)
    assert response.status_code == 409
    assert "last active admin" in response.text
    assert 'value="Still Admin"' in response.text
    assert count_rows(db, WRITES) == before


@pytest.mark.parametrize("path", ["/admin/users/999", "/admin/users/abc", "/admin/topics/nope"])
def test_unknown_users_and_topics_are_404_pages(
    pages: TestClient, admin: Person, path: str
) -> None:
    sign_in(pages, admin.username)
    response = pages.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


TOPIC = {
    "slug": "motor-claims",
    "name": "Motor claims",
    "description": "Cars and vans.",
    "required_endorsements": "2",
    "review_interval_days": "",
}


def test_an_admin_creates_a_topic_that_never_goes_stale(
    pages: TestClient, admin: Person, db: Database
) -> None:
    csrf = sign_in(pages, admin.username)
    response = submit(pages, "/admin/topics/new", TOPIC, csrf)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/topics/motor-claims"
    topic = topic_named(db, "motor-claims")
    assert (topic.required_endorsements, topic.review_interval_days) == (2, None)
    page = pages.get("/admin/topics/motor-claims").text
    assert "Created the topic Motor claims." in page
    assert "nobody can review" in page  # no experts yet


@pytest.mark.parametrize(
    ("change", "field", "message", "status"),
    [
        ({"slug": "Motor Claims"}, "slug", "lowercase letters", 422),
        ({"required_endorsements": "0"}, "required_endorsements", "from 1 to 10", 422),
        ({"review_interval_days": "soon"}, "review_interval_days", "leave it empty", 422),
        ({"name": ""}, "name", "Enter a name", 422),
        ({"slug": "claims"}, "slug", "exists", 409),
    ],
)
def test_a_refused_new_topic_shows_errors_beside_fields_and_writes_nothing(
    pages: TestClient,
    people: People,
    admin: Person,
    db: Database,
    change: dict[str, str],
    field: str,
    message: str,
    status: int,
) -> None:
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    before = count_rows(db, WRITES)
    response = submit(pages, "/admin/topics/new", {**TOPIC, **change}, csrf)
    assert response.status_code == status
    assert message in field_error(response.text, field)
    assert "Cars and vans." in response.text
    assert count_rows(db, WRITES) == before


def test_an_admin_changes_a_topics_settings(
    pages: TestClient, people: People, admin: Person, db: Database
) -> None:
    people.topic("claims", review_interval_days=90)
    csrf = sign_in(pages, admin.username)
    form = {
        "name": "Claims",
        "description": "",
        "required_endorsements": "3",
        "review_interval_days": "",
    }
    assert submit(pages, "/admin/topics/claims", form, csrf).status_code == 303
    topic = topic_named(db, "claims")
    assert (topic.required_endorsements, topic.review_interval_days) == (3, None)
    refused = submit(pages, "/admin/topics/claims", {**form, "required_endorsements": "11"}, csrf)
    assert refused.status_code == 422
    assert "from 1 to 10" in field_error(refused.text, "required_endorsements")
    assert topic_named(db, "claims").required_endorsements == 3


def test_an_admin_adds_a_signpost_from_the_topic_page(
    pages: TestClient, people: People, admin: Person
) -> None:
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    form = {"title": "Claims handbook", "url": "https://intranet.example/claims", "description": ""}
    response = submit(pages, "/admin/topics/claims/signposts", form, csrf)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/topics/claims#signposts"
    page = pages.get("/admin/topics/claims").text
    assert '<a href="https://intranet.example/claims" rel="noopener nofollow">' in page


def test_an_expert_of_the_topic_adds_signposts_on_its_signposts_page(
    pages: TestClient, people: People, db: Database
) -> None:
    expert = people.make("expert", topics=("claims",))
    csrf = sign_in(pages, expert.username)
    assert "Add a signpost" in pages.get("/admin/topics/claims/signposts").text
    before = count_rows(db, WRITES)
    bad = {"title": "Handbook", "url": "intranet/claims", "description": "Read first"}
    refused = submit(pages, "/admin/topics/claims/signposts", bad, csrf)
    assert refused.status_code == 422
    assert "full web address" in field_error(refused.text, "url")
    assert 'value="intranet/claims"' in refused.text and "Read first" in refused.text
    assert count_rows(db, WRITES) == before
    good = {**bad, "url": "https://intranet.example/claims"}
    added = submit(pages, "/admin/topics/claims/signposts", good, csrf)
    assert added.headers["location"] == "/admin/topics/claims/signposts"
    assert "https://intranet.example/claims" in pages.get(added.headers["location"]).text


def test_an_expert_of_another_topic_cannot_add_signposts(
    pages: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    outsider = people.make("expert", topics=("motor",))
    csrf = sign_in(pages, outsider.username)
    page = pages.get("/admin/topics/claims/signposts").text
    assert "Add a signpost" not in page
    assert "Only experts of Claims and admins add signposts." in page
    before = count_rows(db, WRITES)
    form = {"title": "Mine", "url": "https://example.com/", "description": ""}
    assert submit(pages, "/admin/topics/claims/signposts", form, csrf).status_code == 403
    assert count_rows(db, WRITES) == before


def test_reps_do_not_reach_the_signposts_page(pages: TestClient, people: People) -> None:
    people.topic("claims")
    sign_in(pages, people.make("rep").username)
    assert pages.get("/admin/topics/claims/signposts").status_code == 403


def test_an_admin_gives_a_user_an_email_address_and_removes_it(
    pages: TestClient, people: People, admin: Person, db: Database
) -> None:
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    created = submit(pages, "/admin/users/new", {**NEW_USER, "email": "new@example.com"}, csrf)
    assert created.status_code == 303
    user = user_named(db, "new.expert")
    assert user is not None and user.email == "new@example.com"
    page = pages.get(f"/admin/users/{user.id}").text
    assert 'value="new@example.com"' in page
    form = {"display_name": "New Expert", "roles": ["expert"], "expert_topics": ["claims"]}
    removed = submit(pages, f"/admin/users/{user.id}", {**form, "email": ""}, csrf)
    assert removed.status_code == 303
    again = user_named(db, "new.expert")
    assert again is not None and again.email is None
