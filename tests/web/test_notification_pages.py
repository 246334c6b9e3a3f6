"""The notifications page: the header's unread count, the list with links into threads,
opening one, marking one or all read."""

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import Database, session_scope
from app.notifications import fanout
from app.notifications.models import Delivery, Webhook
from tests.factories import People, answer, ask, review
from tests.web.helpers import sign_in, submit

_BADGE = re.compile(r'class="count-badge">(\d+)<')


def unread_badge(page: str) -> int:
    found = _BADGE.search(page)
    return int(found.group(1)) if found else 0


def test_a_rep_hears_their_answer_was_corrected_and_opens_it(
    client: TestClient, pages: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep, asker = people.make("rep"), people.make("rep")
    question = ask(client, asker, "claims", title="Is glass covered on a home policy?")
    reply = answer(client, rep, question["id"], "Glass is never covered.")
    review(
        client,
        expert,
        reply["id"],
        "correct",
        rationale="It depends on the policy.",
        correction="Glass is covered with accidental damage cover.",
    )
    fanout.drain(db, settings)

    csrf = sign_in(pages, rep.username)
    home = pages.get("/").text
    assert unread_badge(home) == 1
    listing = pages.get("/notifications")
    assert listing.status_code == 200
    text = html.unescape(listing.text)
    assert "corrected your answer to: Is glass covered on a home policy?" in text
    assert "Correction: Glass is covered with accidental damage cover." in text
    assert "Rationale: It depends on the policy." in text
    [notification_id] = re.findall(r'action="/notifications/(\d+)/open"', listing.text)

    opened = submit(pages, f"/notifications/{notification_id}/open", {}, csrf)
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/questions/{question['id']}#answer-{reply['id']}"
    assert unread_badge(pages.get("/").text) == 0
    assert "All read." in pages.get("/notifications").text
    # Someone else's notification, or one that is gone, leads back to the list.
    asker_csrf = sign_in(pages, asker.username)
    theirs = submit(pages, f"/notifications/{notification_id}/open", {}, asker_csrf)
    assert (theirs.status_code, theirs.headers["location"]) == (303, "/notifications")


def test_an_expert_marks_one_then_all_read(
    client: TestClient, pages: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    for n in range(3):
        ask(client, rep, "claims", title=f"Question {n} about a claim")
    fanout.drain(db, settings)
    csrf = sign_in(pages, expert.username)
    listing = pages.get("/notifications").text
    assert unread_badge(listing) == 3
    headlines = re.findall(
        r'class="notification__headline"[^>]*>(?:<span[^>]*>[^<]*</span>)?([^<]*)<', listing
    )
    assert sorted(headlines) == [
        f"New question in Claims: Question {n} about a claim" for n in range(3)
    ]
    first = re.findall(r'name="notification" value="(\d+)"', listing)[0]

    marked = submit(pages, "/notifications/read", {"notification": first}, csrf)
    assert marked.status_code == 303
    assert unread_badge(pages.get("/notifications").text) == 2
    unread_only = pages.get("/notifications?unread=true").text
    assert f'action="/notifications/{first}/open"' not in unread_only

    everything = submit(pages, "/notifications/read", {}, csrf)
    assert everything.status_code == 303
    page = pages.get("/notifications").text
    assert unread_badge(page) == 0
    assert "Marked 2 notifications read." in html.unescape(page)
    assert "Nothing unread." in pages.get("/notifications?unread=true").text


def test_a_bad_notification_id_in_the_form_is_refused(
    client: TestClient, pages: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    ask(client, people.make("rep"), "claims")
    fanout.drain(db, settings)
    csrf = sign_in(pages, expert.username)
    for bad in ("abc", "0", str(2**40), "-3"):
        response = submit(pages, "/notifications/read", {"notification": bad}, csrf)
        assert response.status_code == 422, bad
    assert unread_badge(pages.get("/notifications").text) == 1
    forged = pages.post("/notifications/read", data={}, follow_redirects=False)
    assert forged.status_code == 403
    assert unread_badge(pages.get("/notifications").text) == 1


def test_settings_are_changed_on_their_page(
    client: TestClient, pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)
    page = pages.get("/notifications/settings")
    assert page.status_code == 200
    assert 'name="question.commented|email"' in page.text
    saved = submit(
        pages,
        "/notifications/settings",
        {"question.commented|email": "never", "answer.reviewed|web": "never"},
        csrf,
    )
    assert saved.status_code == 303
    settings = client.get("/me/notification-settings", headers=rep.headers).json()["settings"]
    chosen = {(s["kind"], s["channel"]): s["frequency"] for s in settings if not s["default"]}
    assert chosen == {("question.commented", "email"): "never", ("answer.reviewed", "web"): "never"}
    assert "Notification settings saved." in pages.get("/notifications/settings").text


def test_a_choice_a_channel_does_not_offer_is_shown_again_unsaved(
    client: TestClient, pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)
    for form in ({"answer.reviewed|web": "daily"}, {"answer.reviewed|email": "hourly"}):
        refused = submit(pages, "/notifications/settings", form, csrf)
        assert refused.status_code == 422
        assert 'role="alert"' in refused.text or "field__error" in refused.text
    settings = client.get("/me/notification-settings", headers=rep.headers).json()["settings"]
    assert all(s["default"] for s in settings)


def test_an_admin_adds_and_removes_a_webhook_and_sends_a_dead_letter_again(
    pages: TestClient, people: People, db: Database
) -> None:
    admin = people.make("admin")
    people.topic("claims")
    csrf = sign_in(pages, admin.username)
    page = pages.get("/admin/notifications")
    assert page.status_code == 200
    assert "No webhooks yet." in page.text and "Nothing failed for good." in page.text

    refused = submit(
        pages,
        "/admin/notifications/webhooks",
        {"topic": "claims", "url": "ftp://hooks.example.com/x", "format": "slack"},
        csrf,
    )
    assert refused.status_code == 422
    assert "must start with http:// or https://" in html.unescape(refused.text)
    assert 'value="ftp://hooks.example.com/x"' in refused.text  # what was typed is kept
    added = submit(
        pages,
        "/admin/notifications/webhooks",
        {"topic": "claims", "url": "http://127.0.0.1:9/services/T0/B0/secret-path"},
        csrf,
    )
    assert added.status_code == 200
    [secret] = re.findall(r'<code class="secret">([0-9a-f]{64})</code>', added.text)
    listing = pages.get("/admin/notifications").text
    assert secret not in listing and "secret-path" not in listing  # shown once, path hidden
    assert "http://127.0.0.1:9/…" in html.unescape(listing)
    with session_scope(db) as session:
        webhook = session.execute(select(Webhook)).scalar_one()
        assert webhook.secret == secret
        session.add(
            Delivery(
                key="email:x",
                channel="email",
                kind="question.new",
                status="dead",
                attempts=8,
                last_error="SMTPRecipientsRefused: 550",
                user_id=admin.id,
            )
        )
    listing = pages.get("/admin/notifications").text
    assert "SMTPRecipientsRefused: 550" in listing
    [delivery_id] = re.findall(r"/admin/notifications/deliveries/(\d+)/retry", listing)
    again = submit(pages, f"/admin/notifications/deliveries/{delivery_id}/retry", {}, csrf)
    assert again.status_code == 303
    assert "Nothing failed for good." in pages.get("/admin/notifications").text
    removed = submit(pages, f"/admin/notifications/webhooks/{webhook.id}/delete", {}, csrf)
    assert removed.status_code == 303
    assert "No webhooks yet." in pages.get("/admin/notifications").text


def test_the_settings_page_offers_the_digest_by_email_only(
    pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)
    page = pages.get("/notifications/settings").text
    assert "The weekly digest of newly validated answers" in page
    assert 'name="digest|email"' in page and 'name="digest|web"' not in page
    saved = submit(pages, "/notifications/settings", {"digest|email": "never"}, csrf)
    assert saved.status_code == 303
    page = pages.get("/notifications/settings").text
    assert re.search(r'name="digest\|email".*?<option value="never" selected>', page, re.S)
