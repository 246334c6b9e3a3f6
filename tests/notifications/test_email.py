"""Email through a real SMTP server: who gets what, the message itself, one-click
unsubscribe, summaries and the digest, and nothing lost or doubled when things fail."""

import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import func, select, update

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.notifications import deliveries, fanout, mail, summaries
from app.notifications.models import Channel, Delivery, DeliveryAttempt, Notification
from tests.factories import People, Person, answer, ask, review
from tests.support.smtp import Received, SmtpServer

SITE = "http://vouch.example.com"


@pytest.fixture
def settings(settings: Settings, smtp: SmtpServer) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_timeout_seconds": 5.0,
            "mail_from": "Vouch <vouch@example.com>",
            "public_url": SITE,
            "delivery_max_attempts": 3,
        }
    )


def send_all(db: Database, settings: Settings) -> int:
    """What the worker does: fan out, then send the emails that are due."""
    fanout.drain(db, settings)
    return deliveries.drain(db, settings, Channel.email, mail.send)


def address(person: Person) -> str:
    return f"{person.username}@example.com"


def one_email(smtp: SmtpServer, person: Person) -> Received:
    found = smtp.mailbox.to(address(person))
    assert len(found) == 1, [r.message["Subject"] for r in found]
    return found[0]


def settings_of(client: TestClient, person: Person) -> dict[tuple[str, str], str]:
    response = client.get("/me/notification-settings", headers=person.headers)
    assert response.status_code == 200, response.text
    return {(s["kind"], s["channel"]): s["frequency"] for s in response.json()["settings"]}


def make_due(db: Database) -> None:
    """Past every backoff: the rows that failed are due again."""
    with session_scope(db) as session:
        session.execute(update(Delivery).values(next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_an_expert_gets_an_email_for_a_new_question_and_can_unsubscribe_in_one_click(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    expert = people.make("expert", topics=("claims",), email=True)
    no_address = people.make("expert", topics=("claims",))
    asker = people.make("rep", email=True)
    question = ask(client, asker, "claims", title="Is flood damage covered at all?")
    assert send_all(db, settings) == 1

    received = one_email(smtp, expert)
    message = received.message
    assert message["Subject"] == "New question in Claims: Is flood damage covered at all?"
    assert message["From"] == "Vouch <vouch@example.com>"
    assert message["To"] == f"{expert.username.title()} <{address(expert)}>"
    assert message["Message-ID"].endswith("@example.com>")
    link = f"{SITE}/questions/{question['id']}"
    text, html = received.part("plain"), received.part("html")
    assert "Is flood damage covered at all?" in text and link in text
    assert "Is flood damage covered at all?" in html and f'href="{link}"' in html
    # Nobody's credentials travel by email.
    assert expert.token not in message.as_string() and asker.token not in message.as_string()
    assert smtp.mailbox.to(address(asker)) == []  # their own question
    assert len(smtp.mailbox.received) == 1  # and the expert with no address gets none

    # One-click unsubscribe (RFC 8058): the headers, then the POST a mail client sends.
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe_url = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe_url.startswith(f"{SITE}/unsubscribe/")
    assert unsubscribe_url in text
    path = urlsplit(unsubscribe_url).path
    page = client.get(f"http://testserver{path}")
    assert page.status_code == 200 and "Unsubscribe" in page.text
    assert settings_of(client, expert)[("question.new", "email")] == "immediately"  # GET: no
    response = client.post(
        f"http://testserver{path}",
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert settings_of(client, expert)[("question.new", "email")] == "never"
    assert settings_of(client, expert)[("answer.new", "email")] == "immediately"
    with session_scope(db) as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "notification_settings.update")
        ).scalar_one()
        assert (event.actor_id, event.target_id) == (expert.id, str(expert.id))
        assert event.payload["after"] == {"question.new/email": "never"}

    ask(client, asker, "claims", title="Is storm damage covered at all?")
    send_all(db, settings)
    assert len(smtp.mailbox.to(address(expert))) == 1  # nothing more by email
    assert no_address  # (had no address: got nothing either time)


def test_an_author_hears_by_email_that_their_answer_was_corrected_with_the_correction(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    expert = people.make("expert", topics=("claims",))
    author = people.make("rep", email=True)
    question = ask(client, people.make("rep"), "claims", title="How long is the cooling-off?")
    reply = answer(client, author, question["id"], "Seven days from the start.")
    review(
        client,
        expert,
        reply["id"],
        "correct",
        rationale="It is fourteen days, by law.",
        correction="Fourteen days from receipt of the policy documents.",
    )
    send_all(db, settings)
    received = one_email(smtp, author)
    assert received.message["Subject"] == (
        f"{expert.username.title()} corrected your answer to: How long is the cooling-off?"
    )
    for part in (received.part("plain"), received.part("html")):
        assert "It is fourteen days, by law." in part
        assert "Fourteen days from receipt of the policy documents." in part
        assert f"{SITE}/questions/{question['id']}#answer-{reply['id']}" in part


def test_nothing_is_lost_while_the_mail_server_is_down_and_nothing_comes_twice(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    experts = [people.make("expert", topics=("claims",), email=True) for _ in range(5)]
    asker = people.make("rep")
    smtp.stop()
    for n in range(10):
        ask(client, asker, "claims", title=f"Question number {n} about claims")
    fanout.drain(db, settings)
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 0  # 50 due, none sent
    with session_scope(db) as session:
        rows = list(session.execute(select(Delivery)).scalars())
        assert len(rows) == 50
        assert {(d.status, d.attempts) for d in rows} == {("pending", 1)}
        assert all(d.next_attempt_at > utcnow() for d in rows)  # backing off
        assert "ConnectionRefusedError" in str(rows[0].last_error)
    assert client.get("/readyz").json()["delivery_backlog"]["email"] == 50
    # The requests themselves never waited for the mail server.
    ask(client, asker, "claims", title="One more while the mail is down")

    smtp.start()
    make_due(db)
    assert send_all(db, settings) == 55
    for expert in experts:
        found = smtp.mailbox.to(address(expert))
        assert len(found) == 11
        assert len({r.message["Message-ID"] for r in found}) == 11
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 0  # nothing left
    with session_scope(db) as session:
        assert session.execute(select(func.count(DeliveryAttempt.id))).scalar_one() == 105
    assert client.get("/readyz").json()["delivery_backlog"]["email"] == 0


def test_a_worker_that_dies_mid_batch_loses_nothing_and_two_workers_send_nothing_twice(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    experts = [people.make("expert", topics=("claims",), email=True) for _ in range(4)]
    asker = people.make("rep")
    for n in range(5):
        ask(client, asker, "claims", title=f"Question number {n} about claims")
    fanout.drain(db, settings)
    # A worker claims the batch and dies before sending: its claim holds the rows...
    claimed = deliveries.claim(db, settings, Channel.email, "dead-worker")
    assert len(claimed) == 20
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 0
    # ...until its lease runs out; then another worker sends them, with two at once.
    with session_scope(db) as session:
        session.execute(update(Delivery).values(claimed_until=utcnow() - timedelta(seconds=1)))
    small = settings.model_copy(update={"delivery_batch_size": 3})
    sent: list[int] = []
    workers = [
        threading.Thread(
            target=lambda: sent.append(deliveries.drain(db, small, Channel.email, mail.send))
        )
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert sum(sent) == 20
    assert len(smtp.mailbox.received) == 20
    assert len({r.message["Message-ID"] for r in smtp.mailbox.received}) == 20
    for expert in experts:
        assert len(smtp.mailbox.to(address(expert))) == 5


def test_a_refused_address_is_a_dead_letter_that_admins_see_and_can_send_again(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    refused = people.make("expert", topics=("claims",), email=True)
    fine = people.make("expert", topics=("claims",), email=True)
    admin = people.make("admin")
    smtp.mailbox.refuse.add(address(refused))
    ask(client, people.make("rep"), "claims")
    assert send_all(db, settings) == 1
    assert len(smtp.mailbox.to(address(fine))) == 1  # the other one went through

    page = client.get("/notification-deliveries", headers=admin.headers)
    assert page.status_code == 200, page.text
    [dead] = page.json()["items"]
    assert (dead["recipient"], dead["status"], dead["attempts"]) == (
        refused.username,
        "dead",
        1,
    )
    assert "550" in dead["last_error"]  # refused for good: not tried again and again
    assert client.get("/readyz").json()["dead_deliveries"] == 1
    assert client.get("/notification-deliveries", headers=fine.headers).status_code == 403

    smtp.mailbox.refuse.clear()
    response = client.post(f"/notification-deliveries/{dead['id']}/retry", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    again = client.post(f"/notification-deliveries/{dead['id']}/retry", headers=admin.headers)
    assert again.status_code == 409  # only a dead letter is sent again
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 1
    assert len(smtp.mailbox.to(address(refused))) == 1
    with session_scope(db) as session:
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == "notification_delivery.retry")
        ).scalar_one()
        assert (event.actor_id, event.target_id) == (admin.id, str(dead["id"]))


def test_a_failing_server_gives_up_after_the_last_attempt(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    expert = people.make("expert", topics=("claims",), email=True)
    ask(client, people.make("rep"), "claims")
    smtp.stop()
    fanout.drain(db, settings)
    waits = []
    for _ in range(settings.delivery_max_attempts):
        make_due(db)
        deliveries.drain(db, settings, Channel.email, mail.send)
        with session_scope(db) as session:
            row = session.execute(select(Delivery)).scalar_one()
            waits.append((row.next_attempt_at - utcnow()).total_seconds())
    assert row.status == "dead" and row.attempts == settings.delivery_max_attempts
    # Each wait longer than the last (exponential backoff), until the dead letter.
    assert waits[0] < waits[1]
    assert waits[1] > settings.delivery_backoff_seconds * 1.5
    smtp.start()
    make_due(db)
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 0  # dead stays dead
    assert smtp.mailbox.to(address(expert)) == []


def test_nobody_deactivated_or_without_an_address_is_mailed(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    leaving = people.make("expert", topics=("claims",), email=True)
    admin = people.make("admin")
    ask(client, people.make("rep"), "claims")
    fanout.drain(db, settings)  # planned while they were active...
    response = client.patch(f"/users/{leaving.id}", json={"active": False}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 0  # ...dropped when sent
    assert smtp.mailbox.received == []
    with session_scope(db) as session:
        row = session.execute(select(Delivery)).scalar_one()
        assert row.status == "dropped" and "deactivated" in str(row.last_error)


def test_a_daily_summary_gathers_the_days_news_into_one_email(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    asker = people.make("rep", email=True)
    people.topic("claims")
    question = ask(client, asker, "claims", title="Does the policy cover hail?")
    reply = answer(client, people.make("rep"), question["id"], "Yes, under storm.")
    for text in ("Which policy is that?", "Is it the 2024 wording?", "Thanks, that helps."):
        response = client.post(
            f"/answers/{reply['id']}/comments",
            json={"body": text},
            headers=people.make("rep").headers,
        )
        assert response.status_code == 201, response.text
    send_all(db, settings)
    # The answer came at once; comments wait for the summary (their default).
    [answered] = smtp.mailbox.to(address(asker))
    assert "answered your question" in answered.message["Subject"]

    tomorrow = utcnow() + timedelta(days=1)
    assert summaries.plan_daily(db, settings, tomorrow) == 1
    assert summaries.plan_daily(db, settings, tomorrow) == 0  # gathered once only
    deliveries.drain(db, settings, Channel.email, mail.send)
    summary = smtp.mailbox.to(address(asker))[1]
    assert summary.message["Subject"] == "Your Vouch summary: 3 notifications"
    text = summary.part("plain")
    assert text.count("commented on your question: Does the policy cover hail?") == 3
    with session_scope(db) as session:
        waiting = select(func.count(Notification.id)).where(Notification.email_due.is_not(None))
        assert session.execute(waiting).scalar_one() == 0

    # Its unsubscribe link stops what is gathered into summaries, not the rest.
    path = urlsplit(summary.message["List-Unsubscribe"].strip("<>")).path
    response = client.post(f"http://testserver{path}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    chosen = settings_of(client, asker)
    assert chosen[("question.commented", "email")] == "never"
    assert chosen[("question.answered", "email")] == "immediately"


def test_the_weekly_digest_tells_everyone_what_the_experts_validated(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    expert = people.make("expert", topics=("claims",))
    reader, quiet = people.make("rep", email=True), people.make("rep", email=True)
    response = client.put(
        "/me/notification-settings",
        json={"settings": [{"kind": "digest", "channel": "email", "frequency": "never"}]},
        headers=quiet.headers,
    )
    assert response.status_code == 200, response.text
    question = ask(client, people.make("rep"), "claims", title="Is a shed covered by buildings?")
    reply = answer(client, people.make("rep"), question["id"], "Yes, as an outbuilding.")
    review(client, expert, reply["id"], "endorse", rationale="Right, up to the limit.")
    rejected = answer(client, people.make("rep"), question["id"], "No, never.")
    review(client, expert, rejected["id"], "reject", rationale="Wrong.")

    # The digest goes out in the day after its hour, once.
    at = summaries.last_digest_time(settings, utcnow() + timedelta(days=14)) + timedelta(hours=1)
    assert summaries.plan_digest(db, settings, at) == 0  # nothing validated that week
    at_once = summaries.last_digest_time(settings, utcnow()) + timedelta(days=7, hours=1)
    planned = summaries.plan_digest(db, settings, at_once)
    assert planned == 1  # of those with an address, the reader: `quiet` turned it off
    assert summaries.plan_digest(db, settings, at_once) == 0
    assert summaries.plan_digest(db, settings, at_once + timedelta(days=1)) == 0  # too late
    deliveries.drain(db, settings, Channel.email, mail.send)
    digest = one_email(smtp, reader)
    assert digest.message["Subject"] == "This week in Vouch: 1 newly validated answer"
    text = digest.part("plain")
    assert "Endorsed in Claims: Is a shed covered by buildings?" in text
    assert f"{SITE}/questions/{question['id']}#answer-{reply['id']}" in text
    assert f"#answer-{rejected['id']}" not in text
    assert smtp.mailbox.to(address(quiet)) == []


def test_a_malformed_unsubscribe_link_is_a_clear_400_page_and_changes_nothing(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    for token in ("nonsense", "eyJ1IjoxLCJ3IjoiZGlnZXN0In0.forged-signature"):
        for method in ("GET", "POST"):
            response = client.request(method, f"http://testserver/unsubscribe/{token}")
            assert response.status_code == 400, (method, token)
            assert "not valid" in response.text
    assert all(f != "never" for f in settings_of(client, rep).values())
    with session_scope(db) as session:
        count = select(func.count(AuditEvent.seq)).where(
            AuditEvent.action == "notification_settings.update"
        )
        assert session.execute(count).scalar_one() == 0


def test_a_mail_server_that_wants_a_login_gets_it(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    server = SmtpServer(login=("vouch", "mail-secret")).start()
    try:
        expert = people.make("expert", topics=("claims",), email=True)
        ask(client, people.make("rep"), "claims")
        wrong = settings.model_copy(
            update={
                "smtp_port": server.port,
                "smtp_username": "vouch",
                "smtp_password": SecretStr("not-it"),
            }
        )
        fanout.drain(db, wrong)
        assert deliveries.drain(db, wrong, Channel.email, mail.send) == 0
        with session_scope(db) as session:
            row = session.execute(select(Delivery)).scalar_one()
            # A refused login is the set-up's fault, not the message's: tried again.
            assert row.status == "pending" and "Authentication" in str(row.last_error)
        right = wrong.model_copy(update={"smtp_password": SecretStr("mail-secret")})
        make_due(db)
        assert deliveries.drain(db, right, Channel.email, mail.send) == 1
        assert len(server.mailbox.to(address(expert))) == 1
    finally:
        server.stop()


def test_starttls_and_a_login_over_it(
    client: TestClient,
    people: People,
    db: Database,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = SmtpServer(login=("vouch", "mail-secret"), tls_dir=tmp_path).start()
    try:
        expert = people.make("expert", topics=("claims",), email=True)
        ask(client, people.make("rep"), "claims", title="Is the mail encrypted on its way?")
        plain = settings.model_copy(
            update={
                "smtp_port": server.port,
                "smtp_username": "vouch",
                "smtp_password": SecretStr("mail-secret"),
            }
        )
        fanout.drain(db, plain)
        # Without STARTTLS the server refuses to go on; with it, and a certificate the
        # machine does not trust, the client refuses: both tried again later.
        assert deliveries.drain(db, plain, Channel.email, mail.send) == 0
        tls = plain.model_copy(update={"smtp_starttls": True})
        make_due(db)
        assert deliveries.drain(db, tls, Channel.email, mail.send) == 0
        with session_scope(db) as session:
            row = session.execute(select(Delivery)).scalar_one()
            assert row.status == "pending" and "CERTIFICATE_VERIFY_FAILED" in str(row.last_error)
        # Trusting the server's authority (as a business trusts its own): delivered.
        monkeypatch.setenv("SSL_CERT_FILE", str(server.ca_file))
        make_due(db)
        assert deliveries.drain(db, tls, Channel.email, mail.send) == 1
        [received] = server.mailbox.to(address(expert))
        assert received.message["Subject"].endswith("Is the mail encrypted on its way?")
    finally:
        server.stop()


def test_a_mail_server_that_hangs_times_out_and_the_email_waits_for_the_next_try(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never says a word
    try:
        expert = people.make("expert", topics=("claims",), email=True)
        ask(client, people.make("rep"), "claims")
        hanging = settings.model_copy(
            update={"smtp_port": silent.getsockname()[1], "smtp_timeout_seconds": 0.5}
        )
        fanout.drain(db, hanging)
        started = time.monotonic()
        assert deliveries.drain(db, hanging, Channel.email, mail.send) == 0
        assert time.monotonic() - started < 5
        with session_scope(db) as session:
            row = session.execute(select(Delivery)).scalar_one()
            assert (row.status, row.attempts, row.user_id) == ("pending", 1, expert.id)
            assert "timed out" in str(row.last_error)
    finally:
        silent.close()


def test_a_late_outcome_from_a_worker_whose_lease_ran_out_does_not_undo_a_sent_email(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    expert = people.make("expert", topics=("claims",), email=True)
    ask(client, people.make("rep"), "claims")
    fanout.drain(db, settings)
    [delivery_id] = deliveries.claim(db, settings, Channel.email, "slow-worker")
    with session_scope(db) as session:
        session.execute(update(Delivery).values(claimed_until=utcnow() - timedelta(seconds=1)))
    assert deliveries.drain(db, settings, Channel.email, mail.send) == 1  # another worker
    late = deliveries.Outcome(False, error="SMTPServerDisconnected: late")
    deliveries.record(db, settings, delivery_id, "slow-worker", late, 5)
    with session_scope(db) as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None and (row.status, row.attempts) == ("sent", 1)
        tries = session.execute(
            select(func.count(DeliveryAttempt.id)).where(DeliveryAttempt.delivery_id == delivery_id)
        ).scalar_one()
        assert tries == 2  # both tries on record
    assert len(smtp.mailbox.to(address(expert))) == 1


def test_a_title_with_a_line_break_in_the_database_still_mails_on_one_line(
    client: TestClient, people: People, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    """An imported title can hold what the API refuses; its email goes out, and so do the
    others sent with it."""
    from app.questions.models import Question

    expert = people.make("expert", topics=("claims",), email=True)
    asker = people.make("rep")
    broken = ask(client, asker, "claims", title="Is flood damage covered at all?")
    ask(client, asker, "claims", title="Is storm damage covered at all?")
    with session_scope(db) as session:
        session.execute(
            update(Question)
            .where(Question.id == broken["id"])
            .values(title="Is flood damage\r\nBcc: someone@example.net covered?")
        )
    assert send_all(db, settings) == 2
    subjects = sorted(str(r.message["Subject"]).strip() for r in smtp.mailbox.to(address(expert)))
    assert subjects == [
        "New question in Claims: Is flood damage Bcc: someone@example.net covered?",
        "New question in Claims: Is storm damage covered at all?",
    ]
    assert all(r.recipients == [address(expert)] for r in smtp.mailbox.received)
