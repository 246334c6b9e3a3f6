"""What every page promises whatever is sent to it: safe markdown, strict headers, CSRF,
and a 4xx page (never a 500 or a stack trace) for hostile input."""

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from app.web.render import markdown
from app.web.session import SESSION_COOKIE
from tests.factories import People
from tests.web.helpers import sign_in, submit


def _elements(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element of `html` with its attributes, as a browser would parse them."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">x</a>',
        "![x](javascript:alert(1))",
        '<iframe src="https://evil.example"></iframe>',
        "<svg onload=alert(1)>",
        '[x](https://ok.example "t" onmouseover="alert(1)")',
        "<style>body{display:none}</style>",
    ],
)
def test_markdown_never_yields_script_or_active_markup(text: str) -> None:
    elements = _elements(str(markdown(text)))
    assert {tag for tag, _ in elements} <= {"p", "a"}
    for _, attrs in elements:
        assert all(not name.startswith("on") for name, _ in attrs)
        assert all(not (value or "").lower().startswith("javascript:") for _, value in attrs)


def test_markdown_keeps_what_answers_need() -> None:
    html = str(
        markdown(
            "**Cover** applies:\n\n- at home\n- away, with `personal possessions`\n\n"
            "See [the handbook](https://intranet.example/claims).\n\n```\ncode block\n```"
        )
    )
    assert "<strong>Cover</strong>" in html
    assert "<li>at home</li>" in html
    assert "<code>personal possessions</code>" in html
    assert '<a href="https://intranet.example/claims" rel="nofollow noopener">' in html
    assert "<pre><code>code block" in html


def test_an_image_becomes_a_link_to_it() -> None:
    html = str(markdown("![schedule](https://intranet.example/s.png)"))
    assert "<img" not in html
    assert 'href="https://intranet.example/s.png"' in html
    assert "[image: schedule]" in html


@pytest.mark.parametrize("path", ["/login", "/", "/no-such-page"])
def test_every_page_carries_the_security_headers(
    pages: TestClient, people: People, path: str
) -> None:
    sign_in(pages, people.make("rep").username)
    response = pages.get(path)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


def test_a_post_without_the_csrf_token_is_refused(
    pages: TestClient, client: TestClient, people: People
) -> None:
    rep = people.make("rep")
    sign_in(pages, rep.username)
    response = pages.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert "Form expired or forged" in response.text
    forged = pages.post("/logout", data={"csrf_token": "0" * 64}, follow_redirects=False)
    assert forged.status_code == 403
    # Nothing happened: the session still works.
    token = pages.cookies[SESSION_COOKIE]
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_the_csrf_token_may_come_as_a_header(pages: TestClient, people: People) -> None:
    csrf = sign_in(pages, people.make("rep").username)
    response = pages.post(
        "/logout", headers={"X-CSRF-Token": csrf}, data={"x": "1"}, follow_redirects=False
    )
    assert response.status_code == 303


def test_a_csrf_token_of_another_session_is_refused(pages: TestClient, people: People) -> None:
    first = sign_in(pages, people.make("rep").username)
    sign_in(pages, people.make("rep").username)
    assert submit(pages, "/logout", {}, first).status_code == 403


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/?cursor=not-a-cursor", 400),
        ("/?status=<script>", 422),
        ("/?topic=" + "x" * 500, 422),
        ("/?unknown=1&view=recent", 200),
        ("/?topic=%3Cscript%3E", 200),
        ("/questions/abc", 404),
        ("/questions/99999999999999", 404),
        ("/nowhere", 404),
        ("/?q=%00", 400),
    ],
)
def test_hostile_values_get_a_page_never_a_500(
    pages: TestClient, people: People, path: str, status: int
) -> None:
    sign_in(pages, people.make("rep").username)
    response = pages.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text


def test_a_page_takes_forms_not_json(pages: TestClient, people: People) -> None:
    csrf = sign_in(pages, people.make("rep").username)
    response = pages.post("/logout", json={"csrf_token": csrf})
    assert response.status_code == 415


def test_pages_and_the_api_say_how_long_the_server_took(
    client: TestClient, pages: TestClient, people: People
) -> None:
    sign_in(pages, people.make("rep").username)

    for response in (pages.get("/"), client.get("/healthz"), pages.get("/no-such-page")):
        timing = re.fullmatch(r"app;dur=(\d+\.\d)", response.headers["server-timing"])
        assert timing, response.headers["server-timing"]
        assert 0 <= float(timing.group(1)) < 10_000
