"""`vouch worker` killed with SIGKILL while it holds a batch: after a restart every
thread is in the index once, and every email is received once (by its `Message-ID`)."""

from collections import Counter
from collections.abc import Iterator

import meilisearch
import pytest
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database, session_scope
from app.notifications import deliveries, fanout
from app.notifications.models import Delivery, DeliveryStatus
from app.outbox.models import OutboxEntry
from app.questions.models import Question
from app.questions.service import add_questions
from app.topics.models import Topic
from app.users.models import User
from search.relay import backlog as search_backlog
from tests.factories import SETUP, People
from tests.support.served import VouchProcess, search_env, vouch_env, wait_for
from tests.support.smtp import SmtpServer

pytestmark = [pytest.mark.search, pytest.mark.slow]

QUESTIONS = 200
EXPERTS = 2
LEASE_SECONDS = 5  # the relay waits half of it for a Meilisearch task


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


def _held(db: Database) -> tuple[int, int]:
    """Outbox rows and deliveries claimed and not finished: what a dead worker held."""
    with db.session(write=False) as session:
        rows = session.execute(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.claimed_by.is_not(None), OutboxEntry.done_at.is_(None))
        ).scalar_one()
        sending = session.execute(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.claimed_by.is_not(None), Delivery.status == DeliveryStatus.pending)
        ).scalar_one()
    return rows, sending


def _progress(db: Database) -> tuple[int, int]:
    with db.session(write=False) as session:
        done = session.execute(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_not(None))
        ).scalar_one()
        sent = session.execute(
            select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.sent)
        ).scalar_one()
    return done, sent


def _drained(db: Database) -> bool:
    with db.session(write=False) as session:
        return (
            search_backlog(session) == 0
            and fanout.backlog(session) == 0
            and deliveries.backlog(session)["email"] == 0
        )


def test_worker_killed_mid_batch_delivers_everything_once_after_restart(
    settings: Settings, db: Database, people: People, smtp: SmtpServer
) -> None:
    people.topic("claims")
    experts = [people.make("expert", topics=("claims",), email=True) for _ in range(EXPERTS)]
    rep = people.make("rep")
    with session_scope(db) as session:
        author = session.get_one(User, rep.id)
        topic = session.scalars(select(Topic).where(Topic.slug == "claims")).one()
        questions = []
        for n in range(QUESTIONS):
            question = Question(
                topic=topic, author=author, title=f"Lapsed cover, case {n}", body=f"Case {n}."
            )
            question.tags = []
            questions.append(question)
        add_questions(session, SETUP, questions, {topic.id: topic.slug})
        question_ids = sorted(q.id for q in questions)

    worker = VouchProcess(
        ["worker"],
        vouch_env(
            settings,
            **search_env(settings),
            VOUCH_SMTP_HOST="127.0.0.1",
            VOUCH_SMTP_PORT=str(smtp.port),
            VOUCH_OUTBOX_BATCH_SIZE="25",
            VOUCH_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
            VOUCH_DELIVERY_BATCH_SIZE="10",
            VOUCH_DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
            VOUCH_LOG_LEVEL="ERROR",
        ),
    )
    # Kill it while it holds rows (claimed, not finished) after finishing others, until it
    # has been caught holding rows of both kinds: a kill between two batches proves nothing.
    kills: list[tuple[tuple[int, int], tuple[int, int]]] = []
    try:
        while len(kills) < 20 and not (
            any(held[0] for held, _ in kills) and any(held[1] for held, _ in kills)
        ):
            worker.start()
            wait_for(lambda: any(_held(db)) and any(_progress(db)), "a batch held after one done")
            worker.kill()
            kills.append((_held(db), _progress(db)))
        assert any(held[0] for held, _ in kills), f"never caught holding outbox rows: {kills}"
        assert any(held[1] for held, _ in kills), f"never caught holding deliveries: {kills}"
        done, sent = _progress(db)
        assert done < QUESTIONS or sent < QUESTIONS * EXPERTS, "killed too late to matter"

        worker.start()
        seconds = wait_for(lambda: _drained(db), "the backlogs to drain", seconds=180)
    finally:
        worker.kill()
    print(f"\nkills (held, progress): {kills}; drained {seconds:.1f} s after the restart")

    index = meilisearch.Client(settings.meili_url, settings.meili_key).index(settings.meili_index)
    documents = index.get_documents({"limit": QUESTIONS + 100, "fields": ["id"]})
    indexed = Counter(int(getattr(d, "id")) for d in documents.results)  # noqa: B009
    assert sorted(indexed) == question_ids and set(indexed.values()) == {1}

    with db.session(write=False) as session:
        emails = session.execute(
            select(Delivery.message_id, Delivery.status).where(Delivery.channel == "email")
        ).all()
    assert len(emails) == QUESTIONS * EXPERTS
    assert {status for _, status in emails} == {DeliveryStatus.sent}
    received = Counter(str(r.message["Message-ID"]) for r in smtp.mailbox.received)
    assert set(received) == {message_id for message_id, _ in emails}  # each one arrived
    repeats = sum(received.values()) - len(received)
    # The one window: killed between the mail server's "accepted" and the mark "sent",
    # at most a claimed batch per kill, sent again under the same Message-ID.
    assert repeats <= 10 * len(kills), received.most_common(3)
    for expert in experts:
        mine = smtp.mailbox.to(f"{expert.username}@example.com")
        assert len({str(r.message["Message-ID"]) for r in mine}) == QUESTIONS
    print(f"emails: {len(received)} distinct, {repeats} received again under the same id")
