"""Script written into any text field stays text: nothing runs in a reader's browser."""

from typing import Any

from playwright.sync_api import expect

from app.db import session_scope
from app.users.schemas import UserCreate
from app.users.service import create_user
from tests.factories import PASSWORD, SETUP, Person, answer, ask, flag, review
from tests.web.browser.conftest import Site, sign_in

# Each payload would set window.pwned (or open a dialog) if the page let it run.
PAYLOADS = (
    "<script>window.pwned = 1</script>",
    '<img src=x onerror="window.pwned = 1">',
    "[click me](javascript:window.pwned=1)",
    '<a href="javascript:window.pwned=1">link</a>',
    '"><svg onload="window.pwned=1">',
    "</textarea><script>alert(1)</script>",
)
HOSTILE = " ".join(PAYLOADS)


def _person_named(site: Site, role: str, display_name: str, topics: tuple[str, ...] = ()) -> Person:
    username = site.unique(f"hostile-{role}")
    with session_scope(site.db) as session:
        user = create_user(
            session,
            SETUP,
            UserCreate(
                username=username,
                display_name=display_name,
                password=PASSWORD,
                roles=[role],
                expert_topics=list(topics),
            ),
        )
        user_id = user.id
    return Person(user_id, username, site.people.login(username))


def test_hostile_text_in_every_field_stays_inert(page: Any, site: Site) -> None:
    topic = site.topic()
    rep = _person_named(site, "rep", "Mallory <img src=x onerror=window.pwned=1>")
    expert = _person_named(site, "expert", "<script>window.pwned=1</script>", (topic,))
    other = site.person("rep")
    question = ask(
        site.api,
        rep,
        topic,
        title="<script>window.pwned=1</script> a hostile title",
        body=HOSTILE,
    )
    wrong = answer(site.api, other, question["id"], HOSTILE)
    corrected = answer(site.api, other, question["id"], "Plain answer.")
    pending = answer(site.api, other, question["id"], "Pending answer.")
    review(site.api, expert, wrong["id"], "reject", rationale=HOSTILE)
    review(
        site.api,
        expert,
        corrected["id"],
        "correct",
        rationale=HOSTILE,
        correction=HOSTILE,
    )
    flag(site.api, rep, pending["id"], HOSTILE)
    for path in (f"/questions/{question['id']}/comments", f"/answers/{pending['id']}/comments"):
        response = site.api.post(path, json={"body": HOSTILE}, headers=rep.headers)
        assert response.status_code == 201, response.text

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, expert)
    visited = [
        "/",
        f"/questions/{question['id']}",
        f"/questions/{question['id']}/revisions",
        f"/answers/{wrong['id']}/revisions",
        "/reviews",
        "/learning-needs",
        "/digest",
        "/leaderboard",
        f"/people/{rep.username}",
        f"/people/{expert.username}",
        f"/search?q=hostile+title&topic={topic}",
    ]
    for path in visited:
        page.goto(path)
        for link in page.locator("a[href^='javascript:' i]").all():
            raise AssertionError(f"{path} has a javascript: link: {link.inner_html()}")
        assert page.evaluate("() => window.pwned") is None, path
    page.goto(f"/questions/{question['id']}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("<script>window.pwned=1</script>")
    assert dialogs == []
