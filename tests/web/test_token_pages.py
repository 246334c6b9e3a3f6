"""The personal access tokens page: make a token and see its secret once, revoke one, and
refuse a form that is not from the page."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.db import Database
from tests.factories import People
from tests.web.helpers import csrf_of, sign_in, submit

_SECRET = re.compile(r'id="new-token"[^>]*value="([^"]+)"')


def _create(pages: TestClient, csrf: str, name: str = "nightly report", days: str = "30") -> str:
    response = submit(pages, "/profile/tokens", {"name": name, "expires_in_days": days}, csrf)
    assert response.status_code == 200, response.text
    found = _SECRET.search(response.text)
    assert found, "the new token's secret is not on the page"
    assert "it will not be shown again" in response.text
    assert response.headers["cache-control"] == "no-store"  # not kept by the browser
    return found.group(1)


def _audited(db: Database, action: str) -> list[AuditEvent]:
    with db.session(write=False) as session:
        query = select(AuditEvent).where(AuditEvent.action == action)
        return list(session.execute(query).scalars())


def test_the_profile_links_to_the_tokens_page(pages: TestClient, people: People) -> None:
    sign_in(pages, people.make("rep").username)

    assert 'href="/profile/tokens"' in pages.get("/profile").text


def test_a_new_token_is_shown_once_and_calls_the_api(
    pages: TestClient, client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)

    secret = _create(pages, csrf, "deploy script", "7")

    me = client.get("/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["username"] == rep.username
    again = pages.get("/profile/tokens")
    assert again.status_code == 200
    assert "deploy script" in again.text and "Live" in again.text
    assert secret not in again.text
    assert 'id="new-token"' not in again.text
    (event,) = _audited(db, "auth.token_create")
    assert event.payload["name"] == "deploy script"
    assert secret not in str(event.payload)


def test_revoking_a_token_from_the_page_ends_it(
    pages: TestClient, client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)
    secret = _create(pages, csrf)
    (token_id,) = re.findall(
        r'action="/profile/tokens/(\d+)/revoke"', pages.get("/profile/tokens").text
    )

    response = submit(pages, f"/profile/tokens/{token_id}/revoke", {}, csrf)

    assert response.status_code == 303
    assert response.headers["location"] == "/profile/tokens"
    page = pages.get("/profile/tokens").text
    assert "Revoked nightly report" in page  # the flash
    assert "/revoke" not in page  # no button on a revoked token
    assert client.get("/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert len(_audited(db, "auth.token_revoke")) == 1


def test_someone_elses_token_cannot_be_revoked_from_the_page(
    pages: TestClient, client: TestClient, people: People, db: Database
) -> None:
    owner, intruder = people.make("rep"), people.make("rep")
    made = client.post("/auth/tokens", json={"name": "mine"}, headers=owner.headers).json()
    csrf = sign_in(pages, intruder.username)

    response = submit(pages, f"/profile/tokens/{made['id']}/revoke", {}, csrf)

    assert response.status_code == 303
    assert "mine" not in pages.get("/profile/tokens").text
    assert (
        client.get("/me", headers={"Authorization": f"Bearer {made['token']}"}).status_code == 200
    )
    assert _audited(db, "auth.token_revoke") == []


def test_a_form_without_its_csrf_token_is_refused(
    pages: TestClient, client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)
    made = client.post("/auth/tokens", json={"name": "mine"}, headers=rep.headers).json()

    created = pages.post("/profile/tokens", data={"name": "forged", "expires_in_days": "30"})
    revoked = pages.post(f"/profile/tokens/{made['id']}/revoke", data={"csrf_token": "x" + csrf})

    assert created.status_code == 403 and revoked.status_code == 403
    assert "forged" not in pages.get("/profile/tokens").text
    assert (
        client.get("/me", headers={"Authorization": f"Bearer {made['token']}"}).status_code == 200
    )
    assert len(_audited(db, "auth.token_create")) == 1  # the API's, not the forged one
    assert _audited(db, "auth.token_revoke") == []


def test_a_refused_form_keeps_the_values_and_says_why(
    pages: TestClient, people: People, db: Database
) -> None:
    csrf = sign_in(pages, people.make("rep").username)

    response = submit(pages, "/profile/tokens", {"name": "report", "expires_in_days": "400"}, csrf)

    assert response.status_code == 422
    assert "Enter a whole number of days from 1 to 365." in response.text
    assert 'value="report"' in response.text and 'value="400"' in response.text
    assert 'id="new-token"' not in response.text
    assert _audited(db, "auth.token_create") == []
    assert csrf_of(response.text) == csrf
