"""Driving the web pages through a test client, as a browser without JavaScript would."""

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.factories import PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token a page's forms carry."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(pages: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    pages.cookies.clear()
    token = csrf_of(pages.get("/login").text)
    response = pages.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(pages.get("/").text)


def submit(pages: TestClient, path: str, data: dict[str, Any], csrf: str) -> Response:
    """POST a form as the page would, with the session's CSRF token; redirects not followed."""
    return pages.post(path, data={**data, "csrf_token": csrf}, follow_redirects=False)
