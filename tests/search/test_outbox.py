"""The outbox: written with each change, drained by the relay, robust to failures."""

import time
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.outbox.models import OutboxEntry
from app.questions.schemas import QuestionCreate
from app.questions.service import create_question
from app.users.models import User
from search.client import make_client
from search.relay import OutboxRelay, backoff_seconds
from tests.factories import SETUP, People, answer, ask
from tests.search.helpers import drain, hit_ids, search


def _rows(db: Database) -> list[OutboxEntry]:
    with db.session(write=False) as session:
        return list(session.execute(select(OutboxEntry).order_by(OutboxEntry.id)).scalars())


def test_each_change_to_a_thread_writes_an_outbox_row(
    client: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    a = answer(client, rep, q["id"])
    client.patch(f"/answers/{a['id']}", json={"body": "Edited."}, headers=rep.headers)
    client.patch(f"/questions/{q['id']}", json={"body": "Edited too."}, headers=rep.headers)
    client.delete(f"/answers/{a['id']}", headers=rep.headers)
    client.delete(f"/questions/{q['id']}", headers=rep.headers)

    rows = _rows(db)

    assert [row.question_id for row in rows] == [q["id"]] * 6
    assert all(row.done_at is None and row.attempts == 0 for row in rows)


def test_a_change_rolled_back_leaves_no_outbox_row(people: People, db: Database) -> None:
    people.topic("claims")
    rep = people.make("rep")
    with pytest.raises(RuntimeError), session_scope(db) as session:
        author = session.get(User, rep.id)
        assert author is not None
        data = QuestionCreate(title="A question that never was", body="x", topic="claims")
        create_question(session, SETUP, author, data)
        raise RuntimeError("the request failed after the change")

    assert _rows(db) == []


def test_writes_succeed_while_meilisearch_is_down_and_readyz_says_so(
    client: TestClient, people: People
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    answer(client, rep, q["id"])

    ready = client.get("/readyz")
    searched = client.get("/search", params={"q": "policy"}, headers=rep.headers)
    similar = client.get("/questions/similar", params={"title": "policy"}, headers=rep.headers)

    assert ready.status_code == 200
    assert (
        ready.json() | {"database": "ok", "search": "degraded", "outbox_backlog": 2} == ready.json()
    )
    assert searched.status_code == similar.status_code == 503
    assert searched.json()["type"] == "/problems/search-unavailable"
    assert searched.headers["content-type"] == "application/problem+json"
    assert "Retry-After" in searched.headers
    assert "127.0.0.1" not in searched.text


@pytest.mark.search
def test_readyz_reports_search_ok_and_the_backlog_drains(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    ask(client, rep, "claims")
    assert client.get("/readyz").json()["outbox_backlog"] == 1

    drain(db, settings)

    assert (
        client.get("/readyz").json() | {"search": "ok", "outbox_backlog": 0}
        == client.get("/readyz").json()
    )


@pytest.mark.search
def test_rows_of_one_thread_are_sent_as_one_document_and_keep_the_task_uid(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    for n in range(3):
        answer(client, rep, q["id"], f"Answer {n}")
    relay = OutboxRelay(db, settings, make_client(settings))

    claim = relay.claim()
    assert claim is not None
    result = relay.send(claim)

    assert result.error is None and result.threads == 1 and len(result.rows) == 4
    rows = _rows(db)
    assert all(row.done_at is not None and row.task_uid == result.task_uids[-1] for row in rows)
    assert client.get("/readyz").json()["outbox_backlog"] == 0


@pytest.mark.search
def test_a_failed_task_is_recorded_and_retried_with_backoff(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims", title="Retrying a failed indexing task")
    meili = make_client(settings)
    # An index whose primary key our documents lack: Meilisearch accepts the addition,
    # then fails the task (the client reports that as data, not as an exception).
    meili.wait_for_task(meili.delete_index(settings.meili_index).task_uid)
    meili.wait_for_task(meili.create_index(settings.meili_index, {"primaryKey": "uid"}).task_uid)
    relay = OutboxRelay(db, settings, meili)

    failed = relay.run_once()

    assert failed is not None and failed.error is not None and "failed" in failed.error
    [row] = _rows(db)
    assert row.done_at is None and row.attempts == 1 and row.claimed_by is None
    assert row.task_uid == failed.task_uids[-1] and row.last_error
    assert row.available_at > utcnow()
    assert relay.claim() is None  # backing off
    assert client.get("/readyz").json()["outbox_backlog"] == 1  # and still behind

    meili.wait_for_task(meili.delete_index(settings.meili_index).task_uid)
    with session_scope(db) as session:
        session.execute(update(OutboxEntry).values(available_at=utcnow()))
    retried = relay.run_once()  # re-creates the index, so also queues every thread again

    assert retried is not None and retried.error is None
    relay.drain()
    row, backfilled = _rows(db)
    assert row.done_at is not None and row.attempts == 2 and row.last_error is None
    assert backfilled.question_id == q["id"] and backfilled.done_at is not None
    assert hit_ids(search(client, rep, q="retrying")) == [q["id"]]


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff_seconds(n, 5.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 4.0, 5.0]


@pytest.mark.search
def test_a_crashed_workers_rows_are_claimed_again_when_its_lease_runs_out(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims", title="Leases on outbox rows")
    short = settings.model_copy(update={"outbox_lease_seconds": 0.3})
    crashed = OutboxRelay(db, short, make_client(short), worker_id="crashed")
    survivor = OutboxRelay(db, settings, make_client(settings), worker_id="survivor")

    assert crashed.claim() is not None  # ... and then the worker dies
    assert survivor.claim() is None  # the lease still holds
    time.sleep(0.4)
    claim = survivor.claim()

    assert claim is not None and claim.attempts == 2
    assert survivor.send(claim).error is None
    [row] = _rows(db)
    assert row.claimed_by == "survivor" and row.done_at is not None
    assert hit_ids(search(client, rep, q="leases")) == [q["id"]]


@pytest.mark.search
def test_rows_of_a_thread_in_flight_elsewhere_wait_for_it(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims")
    first = OutboxRelay(db, settings, make_client(settings), worker_id="first")
    second = OutboxRelay(db, settings, make_client(settings), worker_id="second")
    claim = first.claim()
    answer(client, rep, q["id"])  # a newer change to the same thread

    assert second.claim() is None
    assert claim is not None and first.send(claim).error is None
    later = second.claim()
    assert later is not None and later.question_ids == [q["id"]]


def test_pending_rows_older_than_retention_are_pruned_only_when_done(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    ask(client, rep, "claims")
    ask(client, rep, "claims")
    with session_scope(db) as session:
        first = session.execute(select(OutboxEntry).order_by(OutboxEntry.id)).scalars().first()
        assert first is not None
        first.done_at = utcnow() - timedelta(days=2)
    relay = OutboxRelay(db, settings, make_client(settings))

    relay._prune_if_due()

    assert len(_rows(db)) == 1 and _rows(db)[0].done_at is None
