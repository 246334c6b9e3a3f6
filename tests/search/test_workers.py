"""Several workers on one outbox: each row is sent once, and every thread arrives."""

import threading
from collections import Counter

import pytest
from sqlalchemy import select

from app.config import Settings
from app.db import Database, session_scope
from app.outbox.models import OutboxEntry
from app.outbox.service import enqueue_thread
from app.questions.schemas import QuestionCreate
from app.questions.service import create_question
from app.users.models import User
from search.client import make_client
from search.relay import BatchResult, OutboxRelay
from tests.factories import SETUP, People

pytestmark = pytest.mark.search

THREADS = 120
WORKERS = 2


def test_two_workers_draining_one_outbox_send_each_row_once(
    people: People, db: Database, settings: Settings, backend: str
) -> None:
    """On PostgreSQL claims use FOR UPDATE SKIP LOCKED; on SQLite BEGIN IMMEDIATE."""
    people.topic("claims")
    rep = people.make("rep")
    with session_scope(db) as session:
        author = session.get(User, rep.id)
        assert author is not None
        ids = [
            create_question(
                session,
                SETUP,
                author,
                QuestionCreate(title=f"Worker test question {n}", body="b", topic="claims"),
            ).id
            for n in range(THREADS)
        ]
        for question_id in ids[::3]:  # some threads changed twice
            enqueue_thread(session, question_id)
    small = settings.model_copy(update={"outbox_batch_size": 7})
    sent: list[BatchResult] = []
    lock = threading.Lock()

    def record(result: BatchResult) -> None:
        with lock:
            sent.append(result)

    relays = [
        OutboxRelay(db, small, make_client(small), worker_id=f"worker-{n}") for n in range(WORKERS)
    ]
    for relay in relays:
        relay.on_sent = record
    threads = [threading.Thread(target=relay.drain) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    with db.session(write=False) as session:
        rows = list(session.execute(select(OutboxEntry)).scalars())
    times_sent = Counter(row_id for result in sent for row_id in result.rows)
    assert len(rows) == THREADS + len(ids[::3])
    assert set(times_sent) == {row.id for row in rows}
    assert max(times_sent.values()) == 1
    assert all(row.done_at is not None and row.attempts == 1 for row in rows)
    assert {row.claimed_by for row in rows} <= {"worker-0", "worker-1"}
    if backend == "postgres":
        assert len({row.claimed_by for row in rows}) == WORKERS  # both really worked
    index = make_client(settings).index(settings.meili_index)
    assert index.get_stats().number_of_documents == THREADS
