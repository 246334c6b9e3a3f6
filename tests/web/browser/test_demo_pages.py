"""The demo forum as its people see it: the pages the README shows, taken from here."""

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from app.audit.service import Actor, AuditContext
from app.config import Settings
from app.db import session_scope
from app.demo import seed
from app.questions.models import Question
from tests.factories import Person
from tests.web.browser.conftest import Site, assert_accessible, sign_in

DEMO = AuditContext(actor=Actor(None, "demo", ("system",)))


def _demo_user(username: str) -> Person:
    """A demo user, to sign in through the form (only the username is needed)."""
    return Person(0, username, "")


def test_the_demo_forum_for_an_expert_and_a_compliance_officer(
    page: Any, site: Site, axe_source: str
) -> None:
    with session_scope(site.db) as session:
        seed(session, Settings(_env_file=None), DEMO)  # type: ignore[call-arg]
        laptop = session.execute(
            select(Question.id).where(Question.title.like("%accidental damage to a laptop%"))
        ).scalar_one()

    sign_in(page, _demo_user("erin"), "vouch-demo-pass")
    page.goto("/reviews")
    first = page.get_by_role("article").first
    expect(first).to_contain_text("Flagged")
    assert_accessible(page, axe_source)
    site.screenshot(page, "readme-queue")

    page.goto(f"/questions/{laptop}")
    expect(page.get_by_text("this is the answer to rely on")).to_be_visible()
    expect(page.get_by_text("Rejected by Erin Expert")).to_be_visible()
    expect(page.get_by_text("Learning need:")).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "readme-thread")

    # The server fans out the demo's news in the background: the header counts it.
    badge = page.locator(".count-badge")
    for _ in range(50):
        page.goto("/notifications")
        if badge.count():
            break
        page.wait_for_timeout(100)
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.locator(".notification--unread").first).to_be_visible()
    expect(page.get_by_role("button", name="New question in").first).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "notifications")
    page.get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "notification-settings")

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, _demo_user("carla"), "vouch-demo-pass")
    page.goto("/audit")
    page.get_by_role("button", name="Verify the chain").click()
    expect(page.get_by_text("Chain intact.")).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "readme-audit")
