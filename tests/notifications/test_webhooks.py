"""Webhooks: an admin registers a topic's URL; its news is posted there, signed, retried
when the receiver fails, never blocked by a slow one; bad URLs are refused."""

import hashlib
import hmac
import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.notifications import deliveries, fanout, webhooks
from app.notifications.models import Delivery, DeliveryAttempt
from tests.factories import People, Person, answer, ask, flag, review, send_rejected
from tests.support.webhook_receiver import Receiver

SITE = "http://vouch.example.com"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The receiver is on this machine: loopback allowed here (and refused by default,
    # which the bad-URL test checks with the default).
    return settings.model_copy(
        update={
            "webhook_allow_private": True,
            "webhook_timeout_seconds": 1.0,
            "public_url": SITE,
            "delivery_max_attempts": 3,
        }
    )


def register(client: TestClient, admin: Person, topic: str, url: str, fmt: str = "slack") -> dict:
    response = client.post(
        "/webhooks", json={"topic": topic, "url": url, "format": fmt}, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def call_all(db: Database, settings: Settings) -> int:
    fanout.drain(db, settings)
    return deliveries.drain(db, settings, webhooks.CHANNEL, webhooks.send)


def test_a_topics_news_is_posted_to_its_webhook_signed(
    client: TestClient, people: People, db: Database, settings: Settings, receiver: Receiver
) -> None:
    admin = people.make("admin")
    expert = people.make("expert", topics=("claims",))
    people.topic("pensions")
    hook = register(client, admin, "claims", receiver.url("/slack"))
    teams = register(client, admin, "claims", receiver.url("/teams"), "teams")
    register(client, admin, "pensions", receiver.url("/pensions"))
    assert hook["url"] == f"http://127.0.0.1:{receiver.port}/…"  # the secret path is not shown
    assert len(hook["secret"]) == 64
    listed = client.get("/webhooks", headers=admin.headers).json()["items"]
    assert [w["id"] for w in listed][:2] == [hook["id"], teams["id"]]
    assert all("secret" not in w for w in listed)

    asker = people.make("rep")
    question = ask(client, asker, "claims", title="Is flood damage covered at all?")
    reply = answer(client, people.make("rep"), question["id"], "Yes, under buildings.")
    review(client, expert, reply["id"], "endorse", rationale="Right.")
    assert call_all(db, settings) == 4  # question and answer, to each of the two

    # Calls go out in parallel: in the order of their deliveries, not of their arrival.
    [first, second] = sorted(
        receiver.to("/slack"), key=lambda c: int(c.headers["X-Vouch-Delivery"])
    )
    body = json.loads(first.body)
    link = f"{SITE}/questions/{question['id']}"
    assert body["text"] == (
        f"New question in Claims: Is flood damage covered at all?\n<{link}|Open in Vouch>"
    )
    assert body["vouch"]["kind"] == "question.new" and body["vouch"]["url"] == link
    assert json.loads(second.body)["vouch"]["kind"] == "answer.new"
    # Signed: HMAC-SHA256 over "<timestamp>.<body>" with the secret shown at registration.
    timestamp = first.headers["X-Vouch-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    expected = hmac.new(
        hook["secret"].encode(), timestamp.encode() + b"." + first.body, hashlib.sha256
    ).hexdigest()
    assert first.headers["X-Vouch-Signature"] == f"sha256={expected}"
    assert first.headers["X-Vouch-Delivery"].isdigit()
    assert "[Open in Vouch](" in json.loads(receiver.to("/teams")[0].body)["text"]
    # Personal news (the verdict to its author) never goes to a channel; other topics' news
    # not to this one's.
    assert receiver.to("/pensions") == []
    kinds = [json.loads(c.body)["vouch"]["kind"] for c in receiver.calls]
    assert "answer.reviewed" not in kinds

    # Removed: audited, and no more calls.
    response = client.delete(f"/webhooks/{hook['id']}", headers=admin.headers)
    assert response.status_code == 204
    assert client.delete(f"/webhooks/{hook['id']}", headers=admin.headers).status_code == 404
    flag(client, asker, reply["id"], "This contradicts the handbook.")
    call_all(db, settings)
    assert len(receiver.to("/slack")) == 2 and len(receiver.to("/teams")) == 3
    with session_scope(db) as session:
        actions = session.execute(
            select(AuditEvent.action, AuditEvent.payload).where(AuditEvent.action.like("webhook.%"))
        ).all()
    assert [a for a, _ in actions] == ["webhook.create"] * 3 + ["webhook.delete"]
    assert all(receiver.url("/slack") not in json.dumps(p) for _, p in actions)


def test_a_failing_receiver_is_retried_and_a_hanging_one_holds_up_no_other(
    client: TestClient, people: People, db: Database, settings: Settings, receiver: Receiver
) -> None:
    admin = people.make("admin")
    people.topic("claims")
    register(client, admin, "claims", receiver.url("/broken"))
    register(client, admin, "claims", receiver.url("/slow"))
    register(client, admin, "claims", receiver.url("/fine"))
    receiver.status["/broken"] = 500
    receiver.hang["/slow"] = 3.0  # past the 1 s timeout
    ask(client, people.make("rep"), "claims")
    started = time.monotonic()
    assert call_all(db, settings) == 1
    assert time.monotonic() - started < 2.5  # the slow one's timeout, not its answer
    assert len(receiver.to("/fine")) == 1 and len(receiver.to("/broken")) == 1
    with session_scope(db) as session:
        rows = {d.webhook_id: d for d in session.execute(select(Delivery)).scalars()}
        assert sorted((d.status, d.attempts) for d in rows.values()) == [
            ("pending", 1),
            ("pending", 1),
            ("sent", 1),
        ]
        errors = sorted(str(d.last_error) for d in rows.values() if d.last_error)
        assert errors[0].startswith("HTTP 500") and "Timeout" in errors[1]

    # The receiver mends: the retry after the backoff delivers, with the same delivery id.
    receiver.status.clear()
    receiver.hang.clear()
    with session_scope(db) as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow()))
    assert deliveries.drain(db, settings, webhooks.CHANNEL, webhooks.send) == 2
    broken = receiver.to("/broken")
    assert len(broken) == 2
    assert broken[0].headers["X-Vouch-Delivery"] == broken[1].headers["X-Vouch-Delivery"]
    with session_scope(db) as session:
        assert session.execute(select(func.count(DeliveryAttempt.id))).scalar_one() == 5
        statuses = set(session.execute(select(Delivery.status)).scalars())
        assert statuses == {"sent"}


def test_a_receiver_that_says_the_hook_is_gone_is_a_dead_letter_at_once(
    client: TestClient, people: People, db: Database, settings: Settings, receiver: Receiver
) -> None:
    admin = people.make("admin")
    people.topic("claims")
    register(client, admin, "claims", receiver.url("/revoked"))
    receiver.status["/revoked"] = 404
    ask(client, people.make("rep"), "claims")
    call_all(db, settings)
    dead = client.get("/notification-deliveries", headers=admin.headers).json()["items"]
    assert [(d["channel"], d["status"], d["attempts"]) for d in dead] == [("webhook", "dead", 1)]
    assert dead[0]["last_error"].startswith("HTTP 404")


BAD_URLS = (
    "ftp://hooks.example.com/x",
    "hooks.example.com/no-scheme",
    "https://user:secret@hooks.example.com/x",
    "http://127.0.0.1:9/x",
    "http://localhost/x",
    "http://10.1.2.3/x",
    "http://192.168.0.10/x",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/x",
    "https://host:notaport/x",
)


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_webhook_urls_are_422_and_nothing_is_registered(
    client: TestClient, people: People, db: Database, url: str
) -> None:
    # The default settings: private and loopback targets refused.
    client.app.state.settings = client.app.state.settings.model_copy(
        update={"webhook_allow_private": False}
    )
    admin = people.make("admin")
    people.topic("claims")
    response = send_rejected(
        client,
        db,
        admin,
        "POST",
        "/webhooks",
        json={"topic": "claims", "url": url},
        tables=("webhooks",),
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "body.url"
    assert client.get("/webhooks", headers=admin.headers).json()["items"] == []


def test_other_bad_webhook_requests_are_422(
    client: TestClient, people: People, db: Database, receiver: Receiver
) -> None:
    admin = people.make("admin")
    people.topic("claims")
    for body in (
        {"topic": "no-such-topic", "url": receiver.url("/x")},
        {"topic": "claims", "url": receiver.url("/x"), "format": "carrier-pigeon"},
        {"topic": "claims"},
        {"topic": "claims", "url": receiver.url("/x"), "secret": "mine"},
    ):
        response = send_rejected(
            client, db, admin, "POST", "/webhooks", json=body, tables=("webhooks",)
        )
        assert response.status_code == 422, body
