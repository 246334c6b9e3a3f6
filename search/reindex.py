"""Rebuilding the threads index from the database into a fresh index, then swapping it in.

Searches keep hitting the old index until Meilisearch swaps the two atomically, so a
reindex never interrupts search. Changes committed while the new index is being built
go to the old one (the worker keeps running); their threads are queued again after
the swap so the new index catches up.
"""

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import meilisearch
from meilisearch.errors import MeilisearchApiError
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.outbox.models import OutboxEntry
from app.outbox.service import enqueue_thread
from app.questions.models import Question
from search.documents import build_documents
from search.index_settings import PRIMARY_KEY, IndexSettingsError, ensure_index

log = logging.getLogger("vouch.search.reindex")

BATCH_SIZE = 1000
# Tasks left in flight before waiting for the oldest: keeps Meilisearch busy while we read.
IN_FLIGHT = 4
TASK_TIMEOUT_MS = 30 * 60 * 1000
# Changes whose transaction began this long before the rebuild may have been read
# before they committed: their threads are queued again after the swap too.
REQUEUE_MARGIN = timedelta(minutes=5)

Progress = Callable[[int, int], None]


@dataclass
class ReindexReport:
    index_uid: str
    threads: int
    requeued: int


def rebuild_uid(index_uid: str) -> str:
    return f"{index_uid}__rebuild"


def reindex(
    db: Database,
    settings: Settings,
    client: meilisearch.Client,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
) -> ReindexReport:
    """Build every live thread into a fresh index and swap it in for `settings.meili_index`.

    `progress(done, total)` is called after each batch. Raises `IndexSettingsError`
    when Meilisearch refuses a step; the live index is then untouched.
    """
    live, fresh = settings.meili_index, rebuild_uid(settings.meili_index)
    started = utcnow()
    _delete_index(client, fresh)  # a leftover of an interrupted run
    ensure_index(client, fresh)
    with db.session(write=False) as session:
        total = session.execute(
            select(func.count()).select_from(Question).where(Question.deleted_at.is_(None))
        ).scalar_one()
    done = 0
    in_flight: list[int] = []
    for ids in live_question_ids(db, batch_size):
        with db.session(write=False) as session:
            documents, _gone = build_documents(session, ids)
        if documents:
            task = client.index(fresh).add_documents(documents, PRIMARY_KEY)
            in_flight.append(task.task_uid)
        while len(in_flight) > IN_FLIGHT:
            _wait(client, in_flight.pop(0))
        done += len(documents)
        if progress is not None:
            progress(done, total)
    for task_uid in in_flight:
        _wait(client, task_uid)
    ensure_index(client, live)
    _wait(client, client.swap_indexes([{"indexes": [live, fresh]}]).task_uid)
    _delete_index(client, fresh)  # after the swap it holds the old documents
    requeued = _requeue_changed_since(db, started - REQUEUE_MARGIN)
    log.info("reindexed %d threads into %s; %d changed threads queued again", done, live, requeued)
    return ReindexReport(live, done, requeued)


def live_question_ids(db: Database, batch_size: int) -> Iterator[list[int]]:
    """Live question ids in ascending batches (keyset paging: constant cost per batch)."""
    after = 0
    while True:
        with db.session(write=False) as session:
            ids = list(
                session.execute(
                    select(Question.id)
                    .where(Question.deleted_at.is_(None), Question.id > after)
                    .order_by(Question.id)
                    .limit(batch_size)
                ).scalars()
            )
        if not ids:
            return
        yield ids
        after = ids[-1]


def _requeue_changed_since(db: Database, since: datetime) -> int:
    with session_scope(db) as session:
        ids = list(
            session.execute(
                select(OutboxEntry.question_id).where(OutboxEntry.created_at >= since).distinct()
            ).scalars()
        )
        for question_id in ids:
            enqueue_thread(session, question_id)
    return len(ids)


def _delete_index(client: meilisearch.Client, uid: str) -> None:
    try:
        client.get_raw_index(uid)
    except MeilisearchApiError as exc:
        if exc.code == "index_not_found":
            return
        raise
    _wait(client, client.delete_index(uid).task_uid)


def _wait(client: meilisearch.Client, task_uid: int) -> None:
    task = client.wait_for_task(task_uid, timeout_in_ms=TASK_TIMEOUT_MS, interval_in_ms=50)
    if task.status != "succeeded":
        raise IndexSettingsError(f"task {task_uid} ({task.type}) ended {task.status}: {task.error}")
