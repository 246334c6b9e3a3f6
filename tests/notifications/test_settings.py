"""Notification settings: defaults as the spec says, choices kept and audited, a kind
turned off in the web interface no longer shows there, bad choices are 422."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import Database, session_scope
from app.notifications import fanout
from tests.factories import People, Person, answer, ask, review, send_rejected

SETTINGS_TABLES = ("notification_settings", "audit_events")


def settings_of(client: TestClient, person: Person) -> dict[tuple[str, str], dict[str, Any]]:
    response = client.get("/me/notification-settings", headers=person.headers)
    assert response.status_code == 200, response.text
    return {(s["kind"], s["channel"]): s for s in response.json()["settings"]}


def put(client: TestClient, person: Person, *settings: tuple[str, str, str]) -> Any:
    body = {"settings": [{"kind": k, "channel": c, "frequency": f} for k, c, f in settings]}
    return client.put("/me/notification-settings", json=body, headers=person.headers)


def test_defaults_review_work_and_verdicts_at_once_the_rest_daily(
    client: TestClient, people: People
) -> None:
    found = settings_of(client, people.make("rep"))
    assert all(s["default"] for s in found.values())
    assert {s["frequency"] for (_, channel), s in found.items() if channel == "web"} == {
        "immediately"
    }
    email = {kind: s["frequency"] for (kind, channel), s in found.items() if channel == "email"}
    assert email["answer.reviewed"] == "immediately"
    assert email["answer.new"] == email["flag.new"] == email["question.new"] == "immediately"
    assert email["question.commented"] == "daily"
    assert found[("question.new", "web")]["choices"] == ["immediately", "never"]
    assert found[("question.new", "email")]["choices"] == ["immediately", "daily", "never"]
    # The digest is a weekly email, and only an email.
    assert (email["digest"], found[("digest", "email")]["choices"]) == (
        "weekly",
        ["weekly", "never"],
    )
    assert ("digest", "web") not in found


def test_a_choice_is_kept_audited_and_only_what_changed(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    response = put(
        client,
        rep,
        ("question.commented", "email", "never"),
        ("answer.reviewed", "email", "immediately"),  # already so: not a change
    )
    assert response.status_code == 200, response.text
    found = settings_of(client, rep)
    changed = found[("question.commented", "email")]
    assert (changed["frequency"], changed["default"]) == ("never", False)
    assert found[("answer.reviewed", "email")]["default"] is True
    assert settings_of(client, people.make("rep"))[("question.commented", "email")]["default"]
    with session_scope(db) as session:
        [event] = session.execute(
            select(AuditEvent).where(AuditEvent.action == "notification_settings.update")
        ).scalars()
        assert event.actor_id == rep.id and event.target_id == str(rep.id)
        assert event.payload == {
            "before": {"question.commented/email": "daily"},
            "after": {"question.commented/email": "never"},
        }
    # The same again changes nothing and records nothing.
    assert put(client, rep, ("question.commented", "email", "never")).status_code == 200
    with session_scope(db) as session:
        events = select(AuditEvent.seq).where(AuditEvent.action == "notification_settings.update")
        assert len(session.execute(events).all()) == 1


def test_a_kind_turned_off_in_the_web_interface_is_not_listed(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    assert put(client, rep, ("answer.reviewed", "web", "never")).status_code == 200
    question = ask(client, people.make("rep"), "claims")
    reply = answer(client, rep, question["id"], "Cover starts at midnight.")
    review(client, expert, reply["id"], "endorse", rationale="Exactly so.")
    fanout.drain(db, settings)

    inbox = client.get("/notifications", headers=rep.headers).json()
    assert inbox["items"] == [] and inbox["unread"] == 0
    # Turned back on, news from then on shows again.
    assert put(client, rep, ("answer.reviewed", "web", "immediately")).status_code == 200
    second = answer(client, rep, question["id"], "Or at the time on the schedule.")
    review(client, expert, second["id"], "endorse", rationale="Also right.")
    fanout.drain(db, settings)
    inbox = client.get("/notifications", headers=rep.headers).json()
    assert [n["answer_id"] for n in inbox["items"]] == [second["id"]]


def test_bad_settings_are_422_and_change_nothing(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    for body in (
        {"settings": []},
        {"settings": [{"kind": "no.such", "channel": "email", "frequency": "never"}]},
        {"settings": [{"kind": "question.new", "channel": "pigeon", "frequency": "never"}]},
        {"settings": [{"kind": "question.new", "channel": "email", "frequency": "hourly"}]},
        {"settings": [{"kind": "question.new", "channel": "web", "frequency": "daily"}]},
        {"settings": [{"kind": "question.new", "channel": "email", "frequency": "weekly"}]},
        {"settings": [{"kind": "digest", "channel": "web", "frequency": "never"}]},
        {"settings": [{"kind": "digest", "channel": "email", "frequency": "daily"}]},
        {"settings": [{"kind": "question.new", "channel": "email"}]},
        {},
    ):
        response = send_rejected(
            client, db, rep, "PUT", "/me/notification-settings", json=body, tables=SETTINGS_TABLES
        )
        assert response.status_code == 422, body
    assert all(s["default"] for s in settings_of(client, rep).values())
