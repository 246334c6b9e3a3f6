"""`vouch worker` killed with SIGKILL while it holds a batch: after a restart every
thread is in the index once, every email and every webhook call is delivered, and a
receiver that keys on the message's id (`Message-ID`, `X-Vouch-Delivery`) sees each one
exactly once; the raw repeats are bounded by what was in flight at each kill."""

from collections import Counter
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import meilisearch
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.service import Actor, AuditContext
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.notifications import deliveries, fanout, webhooks
from app.notifications.models import Delivery, DeliveryStatus
from app.outbox.models import OutboxEntry
from app.questions.models import Question
from app.questions.service import add_questions
from app.topics.models import Topic
from app.users.models import User
from search.relay import backlog as search_backlog
from tests.factories import SETUP, People
from tests.support.served import VouchProcess, wait_for, worker_env
from tests.support.smtp import SmtpServer
from tests.support.webhook_receiver import Receiver

pytestmark = [pytest.mark.search, pytest.mark.slow]

QUESTIONS = 200
EXPERTS = 2
LEASE_SECONDS = 5  # the relay waits half of it for a Meilisearch task


HOOK_PATH = "/hooks/claims"
# The receiver takes this long over each call, so that the webhook sender is caught with
# calls in flight.
HOOK_SECONDS = 0.05
KINDS = ("outbox", "email", webhooks.CHANNEL)


def _deliveries(session: Session, *where: Any) -> dict[str, int]:
    counted = dict(
        session.execute(
            select(Delivery.channel, func.count()).where(*where).group_by(Delivery.channel)
        ).all()
    )
    return {channel: int(counted.get(channel, 0)) for channel in KINDS[1:]}


def _held(db: Database, since: datetime) -> dict[str, int]:
    """Outbox rows and deliveries (by channel) claimed since `since` and not finished:
    what the worker started then holds (not a dead one's claims, still leased)."""
    claimed_after = since + timedelta(seconds=LEASE_SECONDS)
    with db.session(write=False) as session:
        rows = session.execute(
            select(func.count())
            .select_from(OutboxEntry)
            .where(OutboxEntry.claimed_until > claimed_after, OutboxEntry.done_at.is_(None))
        ).scalar_one()
        sending = _deliveries(
            session,
            Delivery.claimed_until > claimed_after,
            Delivery.status == DeliveryStatus.pending,
        )
    return {"outbox": int(rows)} | sending


def _progress(db: Database) -> dict[str, int]:
    with db.session(write=False) as session:
        done = session.execute(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_not(None))
        ).scalar_one()
        sent = _deliveries(session, Delivery.status == DeliveryStatus.sent)
    return {"outbox": int(done)} | sent


def _caught_busy(db: Database, started: datetime, before: dict[str, int]) -> bool:
    """The worker started at `started` holds rows, and has finished some since then."""
    return any(_held(db, started).values()) and _progress(db) != before


def _drained(db: Database) -> bool:
    with db.session(write=False) as session:
        waiting = deliveries.backlog(session)
        return (
            search_backlog(session) == 0
            and fanout.backlog(session) == 0
            and waiting["email"] == 0
            and waiting[webhooks.CHANNEL] == 0
        )


def test_worker_killed_mid_batch_delivers_everything_once_after_restart(
    settings: Settings, db: Database, people: People, smtp: SmtpServer, receiver: Receiver
) -> None:
    receiver.hang[HOOK_PATH] = HOOK_SECONDS
    people.topic("claims")
    experts = [people.make("expert", topics=("claims",), email=True) for _ in range(EXPERTS)]
    rep = people.make("rep")
    admin = people.make("admin")
    with session_scope(db) as session:
        author = session.get_one(User, rep.id)
        topic = session.scalars(select(Topic).where(Topic.slug == "claims")).one()
        hook_settings = settings.model_copy(update={"webhook_allow_private": True})
        by_admin = AuditContext(actor=Actor(admin.id, admin.username, ("admin",)))
        url = receiver.url(HOOK_PATH)
        webhooks.create(session, by_admin, hook_settings, topic, url, webhooks.Format.slack)
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
        worker_env(
            settings,
            smtp.port,
            VOUCH_OUTBOX_BATCH_SIZE="25",
            VOUCH_OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS),
            VOUCH_DELIVERY_BATCH_SIZE="10",
            VOUCH_DELIVERY_LEASE_SECONDS=str(LEASE_SECONDS),
            VOUCH_WEBHOOK_ALLOW_PRIVATE="true",
        ),
    )
    # Kill it while it holds rows (claimed, not finished) after finishing others, until it
    # has been caught holding rows of each kind: a kill between two batches proves nothing.
    kills: list[tuple[dict[str, int], dict[str, int]]] = []

    def caught(kind: str) -> bool:
        return any(held[kind] for held, _ in kills)

    try:
        while len(kills) < 30 and not all(caught(kind) for kind in KINDS):
            started, before = utcnow(), _progress(db)
            worker.start()
            wait_for(partial(_caught_busy, db, started, before), "a batch held after one done")
            worker.kill()
            kills.append((_held(db, started), _progress(db)))
        for kind in KINDS:
            assert caught(kind), f"never caught holding {kind} rows: {kills}"
        progress = _progress(db)
        assert progress["outbox"] < QUESTIONS or progress["email"] < QUESTIONS * EXPERTS, (
            "killed too late to matter"
        )

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
        rows = session.execute(select(Delivery.id, Delivery.channel, Delivery.message_id)).all()
        statuses = set(session.execute(select(Delivery.status).distinct()).scalars())
    assert statuses == {DeliveryStatus.sent}
    emails = {message_id for _, channel, message_id in rows if channel == "email"}
    calls = {str(delivery_id) for delivery_id, channel, _ in rows if channel == webhooks.CHANNEL}
    assert (len(emails), len(calls)) == (QUESTIONS * EXPERTS, QUESTIONS)

    received = Counter(str(r.message["Message-ID"]) for r in smtp.mailbox.received)
    assert set(received) == emails  # each one arrived, and nothing else
    repeats = sum(received.values()) - len(received)
    # The one window: killed between the mail server's "accepted" and the mark "sent".
    # Emails go one at a time, each marked as soon as it is accepted: at most one per
    # kill that caught emails held goes again, under the same Message-ID.
    assert repeats <= sum(1 for held, _ in kills if held["email"]), received.most_common(3)
    for expert in experts:
        mine = smtp.mailbox.to(f"{expert.username}@example.com")
        assert len({str(r.message["Message-ID"]) for r in mine}) == QUESTIONS

    posted = Counter(call.headers["X-Vouch-Delivery"] for call in receiver.to(HOOK_PATH))
    assert set(posted) == calls
    hook_repeats = sum(posted.values()) - len(posted)
    # Calls go up to PARALLEL at a time, each marked as soon as its answer comes back to
    # the one thread that records them: any call of the claimed batch can be answered
    # and not yet marked, so what may go again is what the worker held at its kill.
    held_calls = sum(held[webhooks.CHANNEL] for held, _ in kills)
    assert hook_repeats <= held_calls, posted.most_common(3)
    print(
        f"emails: {len(received)} distinct, {repeats} received again under the same id; "
        f"webhook calls: {len(posted)} distinct, {hook_repeats} again under the same id"
    )
