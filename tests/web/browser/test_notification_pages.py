"""The pages around email notifications, as their users see them: the admin's webhooks
and failed deliveries, and the unsubscribe page a link in an email opens."""

import re
from typing import Any

from playwright.sync_api import expect

from app.config import Settings
from app.db import session_scope
from app.notifications import unsubscribe
from app.notifications.models import Delivery
from tests.web.browser.conftest import SECRET, Site, assert_accessible, sign_in


def test_an_admin_adds_a_webhook_and_sees_a_failed_delivery(
    site: Site, page: Any, axe_source: str
) -> None:
    admin = site.person("admin")
    topic = site.topic()
    rep = site.person("rep")
    with session_scope(site.db) as session:
        session.add(
            Delivery(
                key=f"email:browser-{rep.id}",
                channel="email",
                kind="answer.reviewed",
                user_id=rep.id,
                status="dead",
                attempts=8,
                last_error="SMTPRecipientsRefused: 550 5.1.1 No such mailbox",
            )
        )
    sign_in(page, admin)
    page.goto("/admin")
    page.get_by_role("link", name="Webhooks and failed deliveries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notifications")
    page.get_by_label("Topic").select_option(topic)
    page.get_by_label("Incoming-webhook address").fill(
        "http://127.0.0.1:9/services/T000/B000/XXXXXXXX"
    )
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_role("status")).to_contain_text("shown this once")
    expect(page.locator("code.secret")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
    expect(page.get_by_text("550 5.1.1 No such mailbox")).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "admin-notifications")


def test_the_unsubscribe_page_of_an_email_link(site: Site, page: Any, axe_source: str) -> None:
    rep = site.person("rep")
    settings = Settings(secret_key=SECRET, _env_file=None)  # type: ignore[call-arg]
    token = unsubscribe.token(settings, rep.id, "question.commented")
    page.goto(f"/unsubscribe/{token}")  # from a mail client: nobody signed in
    expect(page.get_by_role("heading", level=1)).to_have_text("Stop these emails?")
    assert_accessible(page, axe_source)
    site.screenshot(page, "unsubscribe")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unsubscribed")
    expect(page.get_by_text("Vouch sends no more emails for")).to_be_visible()
    site.screenshot(page, "unsubscribed")
