"""Signing in from a browser: the API's token in a cookie, with the API's rules."""

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import Database, session_scope
from app.main import create_app
from app.web.session import SESSION_COOKIE
from tests.factories import People
from tests.web.helpers import csrf_of, sign_in, submit


def _login_form(pages: TestClient) -> str:
    return csrf_of(pages.get("/login").text)


def _login_events(db: Database) -> list[tuple[str, dict[str, object]]]:
    with session_scope(db) as session:
        rows = session.execute(
            select(AuditEvent.outcome, AuditEvent.payload)
            .where(AuditEvent.action == "auth.login")
            .order_by(AuditEvent.seq)
        ).all()
    return [(outcome, payload) for outcome, payload in rows]


def test_a_visitor_is_sent_to_the_sign_in_page_and_back(pages: TestClient, people: People) -> None:
    rep = people.make("rep")
    response = pages.get("/?view=unanswered", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fview%3Dunanswered"

    token = _login_form(pages)
    response = submit(
        pages,
        "/login",
        {
            "username": rep.username,
            "password": "correct horse battery",
            "next": "/?view=unanswered",
        },
        token,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/?view=unanswered"


def test_the_session_cookie_holds_a_working_api_token_kept_from_scripts(
    pages: TestClient, client: TestClient, people: People
) -> None:
    rep = people.make("rep")
    token = _login_form(pages)
    response = submit(
        pages, "/login", {"username": rep.username, "password": "correct horse battery"}, token
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # development and tests run on plain http
    session_token = pages.cookies[SESSION_COOKIE]
    me = client.get("/me", headers={"Authorization": f"Bearer {session_token}"})
    assert me.json()["username"] == rep.username


def test_cookies_are_secure_outside_development(settings: Settings, db: Database) -> None:
    production = settings.model_copy(update={"environment": "production"})
    people = People(TestClient(create_app(production, db), base_url="http://testserver/api/v1"), db)
    rep = people.make("rep")
    pages = TestClient(create_app(production, db), base_url="https://testserver")
    token = _login_form(pages)
    response = submit(
        pages, "/login", {"username": rep.username, "password": "correct horse battery"}, token
    )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "Secure" in cookie


def test_a_wrong_password_keeps_the_username_and_is_audited(
    pages: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    token = _login_form(pages)
    response = submit(pages, "/login", {"username": rep.username, "password": "nope"}, token)
    assert response.status_code == 401
    assert "The username or password is wrong" in response.text
    assert f'value="{rep.username}"' in response.text
    assert 'value="nope"' not in response.text
    assert SESSION_COOKIE not in pages.cookies
    assert _login_events(db)[-1] == (
        "failure",
        {"username": rep.username, "method": "password", "reason": "bad-password"},
    )


def test_an_empty_form_is_refused_beside_its_fields_and_records_nothing(
    pages: TestClient, db: Database
) -> None:
    token = _login_form(pages)
    response = submit(pages, "/login", {"username": "", "password": ""}, token)
    assert response.status_code == 422
    assert 'id="username-error"' in response.text
    assert 'id="password-error"' in response.text
    assert _login_events(db) == []


def test_sign_in_is_throttled_like_the_api(settings: Settings, db: Database) -> None:
    strict = settings.model_copy(update={"login_attempts_per_minute": 3})
    pages = TestClient(create_app(strict, db), base_url="http://testserver")
    token = _login_form(pages)
    for _ in range(3):
        assert (
            submit(pages, "/login", {"username": "zed", "password": "x"}, token).status_code == 401
        )
    response = submit(pages, "/login", {"username": "zed", "password": "x"}, token)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert "Too many login attempts" in response.text


def test_sign_in_without_the_form_token_is_refused(pages: TestClient, people: People) -> None:
    rep = people.make("rep")
    pages.get("/login")
    response = pages.post(
        "/login",
        data={"username": rep.username, "password": "correct horse battery"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in pages.cookies


def test_next_never_leads_off_the_site(pages: TestClient, people: People) -> None:
    rep = people.make("rep")
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        token = _login_form(pages)
        response = submit(
            pages,
            "/login",
            {"username": rep.username, "password": "correct horse battery", "next": target},
            token,
        )
        assert response.headers["location"] == "/"
        pages.cookies.clear()


def test_sign_out_revokes_the_token(pages: TestClient, client: TestClient, people: People) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)
    session_token = pages.cookies[SESSION_COOKIE]
    response = submit(pages, "/logout", {}, csrf)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    me = client.get("/me", headers={"Authorization": f"Bearer {session_token}"})
    assert me.status_code == 401
    pages.cookies.set(SESSION_COOKIE, session_token)
    assert pages.get("/", follow_redirects=False).status_code == 303


def test_a_deactivated_users_open_session_stops_on_the_next_request(
    pages: TestClient, client: TestClient, people: People
) -> None:
    admin = people.make("admin")
    rep = people.make("rep")
    sign_in(pages, rep.username)
    assert pages.get("/").status_code == 200
    response = client.patch(f"/users/{rep.id}", json={"active": False}, headers=admin.headers)
    assert response.status_code == 200
    response = pages.get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_signed_in_user_on_the_login_page_goes_on_to_next(
    pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    sign_in(pages, rep.username)
    response = pages.get("/login?next=/%3Fview%3Dvalidated", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/?view=validated"
