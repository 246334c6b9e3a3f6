"""Every web page and form by every role (and a visitor) answers as the permission table says.

The pages go through the same role dependencies as the API; this matrix proves it page by
page. A page route without an entry in PAGES makes `test_every_page_has_a_permission_entry`
fail, so nothing escapes it.

Outcomes: an allowed role gets its page (200) or its form's success (303 to somewhere
other than the sign-in page); a role without the right gets the 403 page; a visitor is sent
to the sign-in page.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from app.web import AREAS
from tests.factories import People
from tests.test_permissions import ADMIN, ALL, CONTRIBUTORS, EXPERT, PUBLIC, ROLES, World
from tests.test_permissions import build_world as build_api_world
from tests.web.helpers import csrf_of, sign_in, submit

COMPLIANCE = frozenset({"compliance"})
CURATORS = EXPERT | ADMIN  # the topic's experts and admins

Form = dict[str, Any] | None


@dataclass(frozen=True)
class Page:
    allowed: frozenset[str] | None
    build: Callable[[World, str], tuple[str, Form]]


def _get(path: str) -> Callable[[World, str], tuple[str, Form]]:
    return lambda w, r: (path, None)


def _post(
    path: Callable[[World, str], str], **form: Any
) -> Callable[[World, str], tuple[str, Form]]:
    """A form posted to `path(world, role)`; a value may be a function of the role."""
    return lambda w, r: (
        path(w, r),
        {k: v(r) if callable(v) else v for k, v in form.items()},
    )


QUESTION_EDIT = {"title": "How do I handle a lapsed policy?", "tags": ""}

PAGES: dict[tuple[str, str], Page] = {
    # Signing in and out
    ("GET", "/login"): Page(PUBLIC, _get("/login")),
    ("POST", "/login"): Page(PUBLIC, lambda w, r: ("/login", {"username": "x", "password": "y"})),
    ("POST", "/logout"): Page(ALL, lambda w, r: ("/logout", {})),
    # Single sign-on: open to everyone (404 here, where it is not set up; with a provider,
    # tests/auth/test_single_sign_on.py).
    ("GET", "/auth/oidc/login"): Page(PUBLIC, _get("/auth/oidc/login")),
    ("GET", "/auth/oidc/callback"): Page(PUBLIC, _get("/auth/oidc/callback?code=c&state=s")),
    ("GET", "/auth/oidc/logout"): Page(PUBLIC, _get("/auth/oidc/logout")),
    # Questions and threads
    ("GET", "/"): Page(ALL, _get("/")),
    ("GET", "/ask"): Page(CONTRIBUTORS, _get("/ask")),
    ("GET", "/ask/similar"): Page(CONTRIBUTORS, _get("/ask/similar?title=lapsed+policy")),
    ("POST", "/ask"): Page(
        CONTRIBUTORS,
        _post(
            lambda w, r: "/ask",
            title="A question long enough",
            body="Body.",
            topic="claims",
            tags="",
        ),
    ),
    ("GET", "/questions/{question_id}"): Page(
        ALL, lambda w, r: (f"/questions/{w.others_question}", None)
    ),
    ("GET", "/questions/{question_id}/edit"): Page(
        CONTRIBUTORS, lambda w, r: (f"/questions/{w.own_question(r)}/edit", None)
    ),
    ("POST", "/questions/{question_id}/edit"): Page(
        CONTRIBUTORS,
        _post(
            lambda w, r: f"/questions/{w.own_question(r)}/edit",
            body=lambda r: f"Edited by {r}.",
            **QUESTION_EDIT,
        ),
    ),
    ("POST", "/questions/{question_id}/delete"): Page(
        CONTRIBUTORS, _post(lambda w, r: f"/questions/{w.own_question(r)}/delete")
    ),
    ("GET", "/questions/{question_id}/revisions"): Page(
        ALL, lambda w, r: (f"/questions/{w.others_question}/revisions", None)
    ),
    ("POST", "/questions/{question_id}/comments"): Page(
        CONTRIBUTORS,
        _post(lambda w, r: f"/questions/{w.others_question}/comments", body="A comment."),
    ),
    # Answers
    ("POST", "/questions/{question_id}/answers"): Page(
        CONTRIBUTORS,
        _post(lambda w, r: f"/questions/{w.others_question}/answers", body="An answer."),
    ),
    ("GET", "/answers/{answer_id}/edit"): Page(
        CONTRIBUTORS, lambda w, r: (f"/answers/{w.own_answer(r)}/edit", None)
    ),
    ("POST", "/answers/{answer_id}/edit"): Page(
        CONTRIBUTORS,
        _post(lambda w, r: f"/answers/{w.own_answer(r)}/edit", body=lambda r: f"Edited by {r}."),
    ),
    ("POST", "/answers/{answer_id}/delete"): Page(
        CONTRIBUTORS, _post(lambda w, r: f"/answers/{w.own_answer(r)}/delete")
    ),
    ("POST", "/answers/{answer_id}/vote"): Page(
        CONTRIBUTORS, _post(lambda w, r: f"/answers/{w.others_answer}/vote", value="1")
    ),
    ("POST", "/answers/{answer_id}/flag"): Page(
        CONTRIBUTORS,
        _post(lambda w, r: f"/answers/{w.others_answer}/flag", reason="Looks out of date."),
    ),
    ("POST", "/answers/{answer_id}/comments"): Page(
        CONTRIBUTORS,
        _post(lambda w, r: f"/answers/{w.others_answer}/comments", body="A comment."),
    ),
    ("GET", "/answers/{answer_id}/revisions"): Page(
        ALL, lambda w, r: (f"/answers/{w.others_answer}/revisions", None)
    ),
    # Validation
    ("GET", "/reviews"): Page(EXPERT, _get("/reviews")),
    ("POST", "/answers/{answer_id}/review"): Page(
        EXPERT, _post(lambda w, r: f"/answers/{w.others_answer}/review", verdict="endorse")
    ),
    ("GET", "/learning-needs"): Page(ALL, _get("/learning-needs")),
    ("POST", "/learning-needs/{need_id}/acknowledge"): Page(
        CURATORS, _post(lambda w, r: f"/learning-needs/{w.needs[r]}/acknowledge", note="On it.")
    ),
    ("POST", "/learning-needs/{need_id}/address"): Page(
        CURATORS, _post(lambda w, r: f"/learning-needs/{w.needs[r]}/address", note="Trained.")
    ),
    # Discovery and recognition
    ("GET", "/search"): Page(ALL, _get("/search?q=lapsed+policy")),
    ("GET", "/digest"): Page(ALL, _get("/digest")),
    ("GET", "/leaderboard"): Page(ALL, _get("/leaderboard?topic=claims")),
    ("GET", "/profile"): Page(ALL, _get("/profile")),
    ("GET", "/people/{username}"): Page(ALL, lambda w, r: (f"/people/{w.other.username}", None)),
    # Personal access tokens (anyone's own)
    ("GET", "/profile/tokens"): Page(ALL, _get("/profile/tokens")),
    ("POST", "/profile/tokens"): Page(
        ALL,
        _post(lambda w, r: "/profile/tokens", name=lambda r: f"script of {r}", expires_in_days="7"),
    ),
    ("POST", "/profile/tokens/{token_id}/revoke"): Page(
        ALL, _post(lambda w, r: f"/profile/tokens/{w.tokens[r]}/revoke")
    ),
    # Notifications (anyone's own; an id that is not theirs leads back to the list)
    ("GET", "/notifications"): Page(ALL, _get("/notifications")),
    ("POST", "/notifications/{notification_id}/open"): Page(
        ALL, _post(lambda w, r: "/notifications/1/open")
    ),
    ("POST", "/notifications/read"): Page(ALL, _post(lambda w, r: "/notifications/read")),
    ("GET", "/notifications/settings"): Page(ALL, _get("/notifications/settings")),
    ("POST", "/notifications/settings"): Page(
        ALL, _post(lambda w, r: "/notifications/settings", **{"question.new|email": "never"})
    ),
    # Compliance
    ("GET", "/audit"): Page(COMPLIANCE, _get("/audit")),
    ("GET", "/audit/export"): Page(COMPLIANCE, _get("/audit/export?format=ndjson")),
    ("GET", "/audit/verify"): Page(COMPLIANCE, _get("/audit/verify")),
    ("GET", "/audit/records"): Page(
        COMPLIANCE,
        lambda w, r: (f"/audit/records?record_type=answer&record_id={w.others_answer}", None),
    ),
    ("GET", "/audit/records/{target_type}/{target_id}"): Page(
        COMPLIANCE, lambda w, r: (f"/audit/records/answer/{w.others_answer}", None)
    ),
    # Administration
    ("GET", "/admin"): Page(ADMIN, _get("/admin")),
    ("GET", "/admin/users/new"): Page(ADMIN, _get("/admin/users/new")),
    ("POST", "/admin/users/new"): Page(
        ADMIN,
        _post(
            lambda w, r: "/admin/users/new",
            username=lambda r: f"new-{r}",
            display_name="New",
            password="a-long-password",
            roles="rep",
        ),
    ),
    ("GET", "/admin/users/{user_id}"): Page(
        ADMIN, lambda w, r: (f"/admin/users/{w.other.id}", None)
    ),
    ("POST", "/admin/users/{user_id}"): Page(
        ADMIN,
        _post(
            lambda w, r: f"/admin/users/{w.other.id}",
            display_name=lambda r: f"Renamed by {r}",
            roles="rep",
        ),
    ),
    ("GET", "/admin/notifications"): Page(ADMIN, _get("/admin/notifications")),
    ("POST", "/admin/notifications/webhooks"): Page(
        ADMIN,
        _post(
            lambda w, r: "/admin/notifications/webhooks",
            topic="claims",
            url=lambda r: f"http://127.0.0.1:9/{r}",
            format="slack",
        ),
    ),
    ("POST", "/admin/notifications/webhooks/{webhook_id}/delete"): Page(
        ADMIN, _post(lambda w, r: f"/admin/notifications/webhooks/{w.webhook}/delete")
    ),
    ("POST", "/admin/notifications/deliveries/{delivery_id}/retry"): Page(
        ADMIN, _post(lambda w, r: f"/admin/notifications/deliveries/{w.dead_delivery}/retry")
    ),
    ("GET", "/admin/topics/new"): Page(ADMIN, _get("/admin/topics/new")),
    ("POST", "/admin/topics/new"): Page(
        ADMIN,
        _post(
            lambda w, r: "/admin/topics/new",
            slug=lambda r: f"new-{r}",
            name="New topic",
            required_endorsements="1",
            review_interval_days="",
        ),
    ),
    ("GET", "/admin/topics/{slug}"): Page(ADMIN, _get("/admin/topics/claims")),
    ("POST", "/admin/topics/{slug}"): Page(
        ADMIN,
        _post(
            lambda w, r: "/admin/topics/claims",
            name="Claims",
            description="",
            required_endorsements="1",
            review_interval_days="",
        ),
    ),
    ("GET", "/admin/topics/{slug}/signposts"): Page(
        CURATORS, _get("/admin/topics/claims/signposts")
    ),
    ("POST", "/admin/topics/{slug}/signposts"): Page(
        CURATORS,
        _post(
            lambda w, r: "/admin/topics/claims/signposts",
            title="Handbook",
            url="https://intranet.example/handbook",
            description="",
        ),
    ),
}

# Pages that need a real Meilisearch to answer (see the `search` marker in tests/conftest.py).
SEARCH_PAGES = {("GET", "/search")}


def page_routes() -> set[tuple[str, str]]:
    """Every route of every page area: the areas `app.web.pages()` mounts."""
    return {
        (method, route.path)
        for area in AREAS
        for route in area.routes
        if isinstance(route, APIRoute)
        for method in route.methods
        if method != "HEAD"
    }


def test_every_page_has_a_permission_entry() -> None:
    routes = page_routes()
    assert routes, "no page routes found"
    assert routes - set(PAGES) == set(), "pages missing from the permission matrix"
    assert set(PAGES) - routes == set(), "matrix entries for pages that no longer exist"


def _outcome(response: Any) -> str | int:
    if response.status_code == 303:
        target = response.headers["location"]
        # Sent to sign in (with `next`), not a form's success (signing out also ends on /login).
        return "login" if target.startswith("/login?next=") else "ok"
    if response.status_code in (200, 204):
        return "ok"
    return int(response.status_code)


@pytest.mark.parametrize(
    "key",
    [pytest.param(k, marks=pytest.mark.search) if k in SEARCH_PAGES else k for k in sorted(PAGES)],
    ids=lambda k: f"{k[0]} {k[1]}",
)
def test_page_answers_each_role_as_the_table_says(
    client: TestClient, pages: TestClient, people: People, key: tuple[str, str]
) -> None:
    method, _ = key
    entry = PAGES[key]
    world = build_api_world(client, people)
    outcomes: dict[str, str | int] = {}
    for role in ("anonymous", *ROLES):
        pages.cookies.clear()
        if role == "anonymous":
            csrf = csrf_of(pages.get("/login").text)
        else:
            csrf = sign_in(pages, world.people[role].username)
        path, form = entry.build(world, role)
        if method == "GET":
            response = pages.get(path, follow_redirects=False)
        else:
            response = submit(pages, path, form or {}, csrf)
        outcomes[role] = _outcome(response)

    if entry.allowed is PUBLIC:
        # Open to everyone: no role is refused or sent to sign in (a wrong password is a 401).
        assert all(o not in ("login", 403) and o != 500 for o in outcomes.values()), outcomes
        return
    expected = {
        role: "login" if role == "anonymous" else ("ok" if role in entry.allowed else 403)
        for role in ("anonymous", *ROLES)
    }
    assert outcomes == expected
