"""News reaches the right people, once, through the fan-out, and only what they may read."""

import threading
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.notifications import fanout
from app.notifications.models import Notification, NotificationOutboxEntry
from tests.factories import People, Person, answer, ask, flag, reject, review, send_rejected

NOTIFICATION_TABLES = ("notifications", "notification_outbox")


def inbox(client: TestClient, person: Person, **params: Any) -> dict[str, Any]:
    response = client.get("/notifications", params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def kinds(client: TestClient, person: Person) -> list[str]:
    return [n["kind"] for n in inbox(client, person)["items"]]


def outbox_rows(db: Database) -> int:
    with session_scope(db) as session:
        return int(session.execute(select(func.count(NotificationOutboxEntry.id))).scalar_one())


def test_a_new_question_reaches_the_topics_experts_through_the_fan_out(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    experts = [people.make("expert", topics=("claims",)) for _ in range(3)]
    other_topic = people.make("expert", topics=("pensions",))
    asker = people.make("rep", "expert", topics=("claims",))
    before = outbox_rows(db)
    question = ask(client, asker, "claims", title="Is flood damage covered at all?")

    # One row for the news, whatever the number of experts; nobody has it yet.
    assert outbox_rows(db) == before + 1
    assert inbox(client, experts[0])["items"] == []
    assert client.get("/readyz").json()["notification_backlog"] == 1
    fanout.drain(db, settings)
    assert client.get("/readyz").json()["notification_backlog"] == 0

    for expert in experts:
        [item] = inbox(client, expert)["items"]
        assert item["kind"] == "question.new"
        assert (item["question_id"], item["question_title"]) == (question["id"], question["title"])
        assert item["topic"] == "claims" and item["read"] is False
        assert item["link"] == f"/questions/{question['id']}"
        assert item["actor"] == asker.username.title()
        assert inbox(client, expert)["unread"] == 1
    assert kinds(client, other_topic) == []
    assert kinds(client, asker) == []  # an expert of the topic, but it is their own question


def test_answers_comments_flags_and_verdicts_reach_who_they_concern(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    asker, answerer, flagger = people.make("rep"), people.make("rep"), people.make("rep")
    question = ask(client, asker, "claims")
    fanout.drain(db, settings)
    reply = answer(client, answerer, question["id"], "Flood is covered under buildings.")
    response = client.post(
        f"/answers/{reply['id']}/comments", json={"body": "Which policy?"}, headers=flagger.headers
    )
    assert response.status_code == 201, response.text
    flag(client, flagger, reply["id"], "This contradicts the handbook.")
    review(
        client,
        expert,
        reply["id"],
        "correct",
        rationale="Only with the flood extension.",
        correction="Flood is covered when the policy has the flood extension.",
    )
    fanout.drain(db, settings)

    assert kinds(client, asker) == ["question.commented", "question.answered"]
    assert kinds(client, expert) == ["flag.new", "answer.new", "question.new"]
    [flagged] = [n for n in inbox(client, expert)["items"] if n["kind"] == "flag.new"]
    assert flagged["detail"] == {"reason": "This contradicts the handbook."}
    assert flagged["link"] == f"/questions/{question['id']}#answer-{reply['id']}"
    [verdict] = inbox(client, answerer)["items"]
    assert verdict["kind"] == "answer.reviewed"
    assert verdict["detail"] == {
        "verdict": "correct",
        "rationale": "Only with the flood extension.",
        "correction": "Flood is covered when the policy has the flood extension.",
    }
    assert kinds(client, flagger) == []  # nothing they wrote was answered or reviewed


def test_an_opened_learning_need_reaches_the_topics_experts(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert, colleague = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    first, second = (answer(client, rep, question["id"], f"Wrong answer {n}.") for n in (1, 2))
    reject(client, expert, first["id"])
    reject(client, expert, second["id"])
    fanout.drain(db, settings)

    [signal] = [n for n in inbox(client, colleague)["items"] if n["kind"] == "learning_need.open"]
    assert signal["question_id"] == question["id"]
    assert signal["detail"]["reopened"] is False
    assert (signal["detail"]["wrong"], signal["detail"]["reviewed"]) == (2, 2)
    assert signal["actor"] is None
    # The expert who rejected hears of it too: the signal is the thread's, not theirs.
    assert "learning_need.open" in kinds(client, expert)


def test_recipients_are_who_they_are_at_fan_out_time(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    stays, leaves, deactivated = (people.make("expert", topics=("claims",)) for _ in range(3))
    admin = people.make("admin")
    rep = people.make("rep")
    ask(client, rep, "claims")
    for person, change in ((leaves, {"expert_topics": []}), (deactivated, {"active": False})):
        response = client.patch(f"/users/{person.id}", json=change, headers=admin.headers)
        assert response.status_code == 200, response.text
    fanout.drain(db, settings)

    assert kinds(client, stays) == ["question.new"]
    assert kinds(client, leaves) == []
    with session_scope(db) as session:
        got = session.execute(
            select(Notification.user_id).where(Notification.user_id == deactivated.id)
        ).all()
        assert got == []


def test_a_row_fanned_out_twice_reaches_nobody_twice(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    ask(client, people.make("rep"), "claims")
    fanout.drain(db, settings)
    # As if a worker had died after writing and before its rows were marked done.
    with session_scope(db) as session:
        session.execute(update(NotificationOutboxEntry).values(done_at=None))
    fanout.drain(db, settings)
    assert kinds(client, expert) == ["question.new"]


def test_two_workers_at_once_write_each_notification_once(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    experts = [people.make("expert", topics=("claims",)) for _ in range(3)]
    rep = people.make("rep")
    for n in range(30):
        ask(client, rep, "claims", title=f"Question number {n} about claims")
    small = settings.model_copy(update={"notification_batch_size": 4})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            fanout.drain(db, small)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    fanout.drain(db, settings)  # whatever a lost race left behind
    for expert in experts:
        page = inbox(client, expert, limit=100)
        assert len(page["items"]) == 30 == page["unread"]
        assert len({n["question_id"] for n in page["items"]}) == 30


def test_a_deleted_thread_takes_its_news_with_it(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    kept, deleted = (ask(client, rep, "claims") for _ in range(2))
    fanout.drain(db, settings)
    before_fan_out = ask(client, rep, "claims")
    for question in (deleted, before_fan_out):
        response = client.delete(f"/questions/{question['id']}", headers=rep.headers)
        assert response.status_code == 204, response.text
    fanout.drain(db, settings)
    page = inbox(client, expert)
    assert [n["question_id"] for n in page["items"]] == [kept["id"]]
    assert page["unread"] == 1
    # News of a thread deleted before the fan-out was never copied to anyone.
    with session_scope(db) as session:
        copies = select(Notification.id).where(Notification.question_id == before_fan_out["id"])
        assert session.execute(copies).all() == []


def test_marking_read_one_or_all_and_never_someone_elses(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert, other = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep = people.make("rep")
    for n in range(3):
        ask(client, rep, "claims", title=f"Question {n} on claims handling")
    fanout.drain(db, settings)
    first, *_ = inbox(client, expert)["items"]
    theirs = inbox(client, other)["items"][0]

    marked = client.post(
        "/notifications/read", json={"ids": [first["id"], theirs["id"]]}, headers=expert.headers
    )
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"marked": 1, "unread": 2}
    assert inbox(client, other)["unread"] == 3
    assert [n["id"] for n in inbox(client, expert, unread=True)["items"]] == [
        n["id"] for n in inbox(client, expert)["items"][1:]
    ]
    everything = client.post("/notifications/read", json={"all": True}, headers=expert.headers)
    assert everything.json() == {"marked": 2, "unread": 0}
    assert all(n["read"] for n in inbox(client, expert)["items"])


def test_bad_mark_read_requests_are_422_and_change_nothing(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    ask(client, people.make("rep"), "claims")
    fanout.drain(db, settings)
    bodies = (
        {},
        {"ids": [1], "all": True},
        {"ids": []},
        {"ids": [0]},
        {"ids": [2**40]},
        {"all": 1},
    )
    for body in bodies:
        response = send_rejected(
            client,
            db,
            expert,
            "POST",
            "/notifications/read",
            json=body,
            tables=NOTIFICATION_TABLES,
        )
        assert response.status_code == 422
    assert inbox(client, expert)["unread"] == 1
    garbled = client.get("/notifications", params={"cursor": "nope"}, headers=expert.headers)
    assert garbled.status_code == 400


def test_paging_through_notifications(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep = people.make("rep")
    for n in range(5):
        ask(client, rep, "claims", title=f"Paged question {n} about claims")
    fanout.drain(db, settings)
    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = inbox(client, expert, **params)
        seen += [n["id"] for n in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)


def test_a_refused_request_leaves_no_news(client: TestClient, people: People, db: Database) -> None:
    people.make("expert", topics=("claims",))
    rep = people.make("rep")
    send_rejected(
        client,
        db,
        rep,
        "POST",
        "/questions",
        json={"title": "Too short", "body": "", "topic": "claims"},
        tables=NOTIFICATION_TABLES,
    )


def _time_passes(db: Database) -> None:
    """As if every scheduled piece of news had come due."""
    with session_scope(db) as session:
        session.execute(
            update(NotificationOutboxEntry)
            .where(NotificationOutboxEntry.done_at.is_(None))
            .values(available_at=utcnow() - timedelta(seconds=1))
        )


def test_an_endorsement_going_stale_is_news_when_it_comes_true(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims", review_interval_days=30)
    first, second = (people.make("expert", topics=("claims",)) for _ in range(2))
    rep = people.make("rep")
    question = ask(client, rep, "claims")
    kept = answer(client, rep, question["id"], "Cover starts on the start date.")
    renewed = answer(client, rep, question["id"], "Cover starts at midnight.")
    review(client, first, kept["id"], "endorse", rationale="Right.")
    review(client, first, renewed["id"], "endorse", rationale="Right.")
    fanout.drain(db, settings)
    # Written ahead, not due for 30 days: not in anyone's list, not in the backlog.
    assert "endorsement.stale" not in kinds(client, second)
    assert client.get("/readyz").json()["notification_backlog"] == 0

    # A second endorsement renews one of them: its first due date no longer comes true.
    review(client, second, renewed["id"], "endorse", rationale="Agreed.")
    _time_passes(db)
    fanout.drain(db, settings)
    for expert in (first, second):
        stale = [
            n for n in inbox(client, expert, limit=100)["items"] if n["kind"] == "endorsement.stale"
        ]
        assert sorted(n["answer_id"] for n in stale) == sorted([kept["id"], renewed["id"]])
        assert all(n["actor"] is None for n in stale)
