"""Every page, as the role that uses it sees it: no serious or critical accessibility
violation, and its main content and form there with JavaScript off."""

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.factories import answer, ask, flag, open_thread_signal
from tests.web.browser.conftest import Site, assert_accessible, sign_in


@pytest.fixture(scope="module")
def world(site: Site) -> dict[str, Any]:
    topic = site.topic()
    rep = site.person("rep")
    expert = site.person("expert", topics=(topic,))
    question = ask(site.api, rep, topic, title="Does a broken boiler count as an emergency?")
    reply = answer(site.api, rep, question["id"], "Yes, if the customer has home emergency cover.")
    flag(site.api, site.person("rep"), reply["id"], "Only with the add-on.")
    open_thread_signal(site.db, question["id"])
    return {
        "topic": topic,
        "rep": rep,
        "expert": expert,
        "compliance": site.person("compliance"),
        "admin": site.person("admin"),
        "rep_id": rep.id,
        "question": question["id"],
        "answer": reply["id"],
    }


# (who, path, words of the page's main heading) for every page a GET reaches.
PAGES = [
    ("rep", "/", "Questions"),
    ("rep", "/ask", "Ask a question"),
    ("rep", "/questions/{question}", "Does a broken boiler count as an emergency?"),
    ("rep", "/questions/{question}/edit", "Edit the question"),
    ("rep", "/questions/{question}/revisions", "History of the question"),
    ("rep", "/answers/{answer}/edit", "Edit the answer"),
    ("rep", "/answers/{answer}/revisions", "History of the answer"),
    ("rep", "/search?q=boiler", "Search"),
    ("rep", "/learning-needs", "Learning needs"),
    ("rep", "/digest", "Digest"),
    ("rep", "/leaderboard", "Leaderboard"),
    ("rep", "/profile", "Rep"),
    ("rep", "/profile/tokens", "Personal access tokens"),
    ("expert", "/notifications", "Notifications"),
    ("rep", "/notifications/settings", "Notification settings"),
    ("admin", "/admin/users/{rep_id}", "Rep"),
    ("rep", "/no-such-page", "Not found"),
    ("expert", "/reviews", "Review queue"),
    ("expert", "/admin/topics/{topic}/signposts", "Signposts"),
    ("compliance", "/audit", "Audit trail"),
    ("compliance", "/audit/records/answer/{answer}", "full history"),
    ("admin", "/admin", "Admin"),
    ("admin", "/admin/users/new", "Create a user"),
    ("admin", "/admin/topics/new", "Create a topic"),
    ("admin", "/admin/notifications", "Notifications"),
    ("admin", "/admin/topics/{topic}", "Topic-"),
]


def _path(template: str, world: dict[str, Any]) -> str:
    return template.format(**world)


@pytest.mark.parametrize("role", ["rep", "expert", "compliance", "admin"])
def test_every_page_of_a_role_is_accessible_and_works_without_javascript(
    page: Any, no_script_page: Any, world: dict[str, Any], axe_source: str, role: str
) -> None:
    person = world[role]
    sign_in(page, person)
    sign_in(no_script_page, person)
    for who, template, heading in PAGES:
        if who != role:
            continue
        path = _path(template, world)
        for tab in (page, no_script_page):
            tab.goto(path)
            title = tab.get_by_role("heading", level=1)
            expect(title).to_have_count(1)
            if heading:
                expect(title).to_contain_text(heading)
        assert_accessible(page, axe_source)


def test_editing_an_answer_works_without_javascript(
    no_script_page: Any, world: dict[str, Any]
) -> None:
    sign_in(no_script_page, world["rep"])
    no_script_page.goto(f"/answers/{world['answer']}/edit")
    no_script_page.get_by_label("Answer").fill(
        "Yes, with home emergency cover: check the schedule."
    )
    no_script_page.get_by_role("button", name="Save").click()
    expect(
        no_script_page.get_by_text("with home emergency cover: check the schedule")
    ).to_be_visible()
