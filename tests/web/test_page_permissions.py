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

from app.problem_handlers import is_api_path
from tests.factories import People
from tests.test_permissions import ADMIN, ALL, CONTRIBUTORS, EXPERT, PUBLIC, ROLES, World
from tests.test_permissions import build_world as build_api_world
from tests.web.helpers import csrf_of, sign_in, submit

COMPLIANCE = frozenset({"compliance"})
CURATORS = EXPERT | ADMIN
EXPERT_ONLY = EXPERT

Form = dict[str, Any] | None


@dataclass(frozen=True)
class Page:
    allowed: frozenset[str] | None
    build: Callable[[World, str], tuple[str, Form]]


def _get(path: str) -> Callable[[World, str], tuple[str, Form]]:
    return lambda w, r: (path, None)


PAGES: dict[tuple[str, str], Page] = {
    ("GET", "/login"): Page(PUBLIC, _get("/login")),
    ("POST", "/login"): Page(PUBLIC, lambda w, r: ("/login", {"username": "x", "password": "y"})),
    ("POST", "/logout"): Page(ALL, lambda w, r: ("/logout", {})),
    ("GET", "/"): Page(ALL, _get("/")),
}


def page_routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        if isinstance(route, APIRoute) and not is_api_path(route.path)
        for method in route.methods
        if method != "HEAD"
    }


def test_every_page_has_a_permission_entry(pages: TestClient) -> None:
    routes = page_routes(pages.app)
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


@pytest.mark.parametrize("key", sorted(PAGES), ids=lambda k: f"{k[0]} {k[1]}")
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
