"""The outbox relay: claims outbox rows, sends their threads to Meilisearch, records the outcome.

Claiming
    A claim is one short write transaction that stamps a batch of pending rows with
    this worker's id and a lease. On PostgreSQL the rows are selected `FOR UPDATE
    SKIP LOCKED`, and claims take a transaction-scoped advisory lock so that two
    workers never hold rows of the same thread at once (otherwise one could send an
    older document after the other sent a newer one). On SQLite the claim runs in a
    `BEGIN IMMEDIATE` transaction, which already serialises claims; SQLite has a
    single writer anyway, so run one worker there.

Sending
    Rows of one thread are coalesced; each document is rebuilt from the database at
    send time, so the order and number of rows never matter. Each Meilisearch task
    is awaited: the client reports a failed task as data, not as an exception.

Outcome
    Success marks the rows done with the task uid. Failure releases them with an
    exponential backoff. A worker that dies holding rows loses them when its lease
    runs out, and the next claim takes them again.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import meilisearch
from meilisearch.errors import MeilisearchError
from sqlalchemy import (
    CursorResult,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.orm import Session

from app.background import Backlog, backoff
from app.config import Settings
from app.db import Database, UTCDateTime, session_scope, unclaimed, utcnow
from app.observability.metrics import SEARCH_FAILURES
from app.outbox.models import OutboxEntry
from app.questions.models import Question
from search.documents import build_documents
from search.index_settings import PRIMARY_KEY, IndexSettingsError, ensure_index

log = logging.getLogger("vouch.search.worker")

# Any fixed number: the key of the PostgreSQL advisory lock that serialises claims.
CLAIM_LOCK_KEY = 0x766F756368  # "vouch"
FIRST_BACKOFF_SECONDS = 0.5
DONE_RETENTION = timedelta(days=1)
PRUNE_EVERY = timedelta(minutes=10)
INDEX_CHECK_EVERY = timedelta(minutes=5)
INDEX_RETRY_EVERY = timedelta(seconds=5)


class TaskFailed(RuntimeError):
    """Meilisearch finished a task with a status other than `succeeded`."""


@dataclass
class Claim:
    """Rows one worker holds: row id → thread id."""

    rows: dict[int, int]
    attempts: int

    @property
    def question_ids(self) -> list[int]:
        return sorted(set(self.rows.values()))


@dataclass
class BatchResult:
    rows: list[int]
    threads: int
    task_uids: list[int] = field(default_factory=list)
    error: str | None = None


def pending(now: datetime) -> Any:
    """Rows not done, due, and held by nobody (or by a worker whose lease ran out)."""
    return (
        OutboxEntry.done_at.is_(None),
        OutboxEntry.available_at <= now,
        or_(OutboxEntry.claimed_until.is_(None), OutboxEntry.claimed_until < now),
    )


@dataclass(frozen=True)
class SearchBacklog(Backlog):
    """The search outbox's backlog; `failing`: those of its rows whose last attempt failed."""

    failing: int = 0


# Since when a row of the backlog has been due: an untried one since its time came (a
# scheduled re-index is not late before then), a retried one since it was written.
_DUE_SINCE = type_coerce(
    case((OutboxEntry.attempts == 0, OutboxEntry.available_at), else_=OutboxEntry.created_at),
    UTCDateTime(),
)


def backlog_summary(session: Session) -> SearchBacklog:
    """Outbox rows not yet in the index: due ones, and failed ones waiting to be retried;
    not those scheduled for later (an endorsement going stale). One query."""
    rows, oldest, failing = session.execute(
        select(func.count(), func.min(_DUE_SINCE), func.count(OutboxEntry.last_error))
        .select_from(OutboxEntry)
        .where(
            OutboxEntry.done_at.is_(None),
            or_(OutboxEntry.available_at <= utcnow(), OutboxEntry.attempts > 0),
        )
    ).one()
    return SearchBacklog(int(rows), oldest, int(failing))


def backlog(session: Session) -> int:
    """How many outbox rows are not yet in the index (see `backlog_summary`)."""
    return backlog_summary(session).rows


def _failure_reason(exc: Exception) -> str:
    """The `reason` label of `vouch_search_failures_total` for a batch that failed."""
    if isinstance(exc, TaskFailed):
        return "task_failed"
    if isinstance(exc, MeilisearchError):
        return "meilisearch_error"
    if isinstance(exc, IndexSettingsError):
        return "index_settings"
    return "unexpected"


def backoff_seconds(attempts: int, cap: float) -> float:
    """0.5 s after the first failed attempt, doubling, at most `cap`."""
    return backoff(FIRST_BACKOFF_SECONDS, attempts, cap)


class OutboxRelay:
    """Drains the outbox of `db` into index `settings.meili_index`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        client: meilisearch.Client,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self.index_uid = settings.meili_index
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._index_checked: datetime | None = None
        self._index_failed_at: datetime | None = None
        self._last_prune: datetime | None = None
        # Called with each successful batch; tests use it to see who sent what.
        self.on_sent: Callable[[BatchResult], None] | None = None

    # -- claiming -----------------------------------------------------------------------

    def claim(self, limit: int | None = None) -> Claim | None:
        """Take up to `limit` due rows for this worker; None when there are none."""
        limit = limit or self.settings.outbox_batch_size
        now = utcnow()
        # A read first: an idle worker must not take SQLite's write lock every poll.
        with self.db.session(write=False) as session:
            if (
                session.execute(select(OutboxEntry.id).where(*pending(now)).limit(1)).first()
                is None
            ):
                return None
        with session_scope(self.db) as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(select(func.pg_advisory_xact_lock(CLAIM_LOCK_KEY)))
            now = utcnow()
            busy = select(OutboxEntry.question_id).where(
                OutboxEntry.done_at.is_(None), OutboxEntry.claimed_until >= now
            )
            query = (
                select(OutboxEntry.id, OutboxEntry.question_id, OutboxEntry.attempts)
                .where(*pending(now), OutboxEntry.question_id.not_in(busy))
                .order_by(OutboxEntry.id)
                .limit(limit)
            )
            rows = session.execute(unclaimed(session, query)).all()
            if not rows:
                return None
            lease = now + timedelta(seconds=self.settings.outbox_lease_seconds)
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id.in_([r.id for r in rows]))
                .values(
                    claimed_by=self.worker_id,
                    claimed_until=lease,
                    attempts=OutboxEntry.attempts + 1,
                )
            )
        return Claim({r.id: r.question_id for r in rows}, max(r.attempts for r in rows) + 1)

    # -- sending ------------------------------------------------------------------------

    def send(self, claim: Claim) -> BatchResult:
        """Index the claimed threads and record the outcome on their rows."""
        result = BatchResult(rows=sorted(claim.rows), threads=len(claim.question_ids))
        try:
            self._ensure_index()
            with self.db.session(write=False) as session:
                documents, gone = build_documents(session, claim.question_ids)
            index = self.client.index(self.index_uid)
            tasks = []
            if documents:
                tasks.append(index.add_documents(documents, PRIMARY_KEY))
            if gone:
                tasks.append(index.delete_documents(filter=f"id IN [{', '.join(map(str, gone))}]"))
            for task in tasks:
                result.task_uids.append(task.task_uid)
                self._await(task.task_uid)
        except Exception as exc:
            SEARCH_FAILURES.labels(_failure_reason(exc)).inc()
            if not isinstance(exc, MeilisearchError | TaskFailed | IndexSettingsError):
                log.exception("unexpected failure while sending a search batch")
            result.error = f"{type(exc).__name__}: {exc}"[:2000]
            # The index may have vanished or the server restarted: check it before the next send.
            self._index_checked = None
            self._release(claim, result)
            log.warning("search batch of %d rows failed: %s", len(claim.rows), result.error)
            return result
        self._mark_done(claim, result)
        if self.on_sent is not None:
            self.on_sent(result)
        return result

    def _ensure_index(self) -> None:
        # At start, after any failure, and now and then: an index deleted behind our back
        # would be re-created by the next document addition with default settings.
        now = utcnow()
        if self._index_checked is None or now - self._index_checked > INDEX_CHECK_EVERY:
            if ensure_index(self.client, self.index_uid).created:
                self._backfill()
            self._index_checked = now

    def _check_index_if_due(self) -> None:
        """At start-up and every few minutes, even with nothing to send: apply the settings,
        report drift, and refill a lost index. Failures only log; sending retries anyway."""
        now = utcnow()
        if self._index_failed_at is not None and now - self._index_failed_at < INDEX_RETRY_EVERY:
            return
        try:
            self._ensure_index()
            self._index_failed_at = None
        except Exception as exc:
            SEARCH_FAILURES.labels("index_check").inc()
            self._index_failed_at = now
            log.warning("search index %s not ready: %s", self.index_uid, exc)

    def _backfill(self) -> None:
        # A new, empty index (first start, or its data was lost): queue every live thread,
        # so the index fills up through the ordinary path instead of staying empty.
        with session_scope(self.db) as session:
            now = utcnow()
            at = literal(now, type_=UTCDateTime())
            live = select(Question.id, at, at, literal(0)).where(Question.deleted_at.is_(None))
            columns = ["question_id", "created_at", "available_at", "attempts"]
            result = session.execute(insert(OutboxEntry).from_select(columns, live))
            queued = cast(CursorResult[Any], result).rowcount
        log.warning("search index %s was missing; queued %s threads", self.index_uid, queued)

    def _await(self, task_uid: int) -> None:
        # Well inside the lease, so nobody else claims these rows while we still wait.
        timeout_ms = int(self.settings.outbox_lease_seconds * 1000 / 2)
        task = self.client.wait_for_task(task_uid, timeout_in_ms=timeout_ms, interval_in_ms=10)
        if task.status != "succeeded":
            raise TaskFailed(f"task {task_uid} {task.status}: {task.error}")

    def _mark_done(self, claim: Claim, result: BatchResult) -> None:
        with session_scope(self.db) as session:
            session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.id.in_(list(claim.rows)), OutboxEntry.claimed_by == self.worker_id
                )
                .values(
                    done_at=utcnow(),
                    claimed_until=None,
                    task_uid=result.task_uids[-1] if result.task_uids else None,
                    last_error=None,
                )
            )

    def _release(self, claim: Claim, result: BatchResult) -> None:
        delay = backoff_seconds(claim.attempts, self.settings.outbox_max_backoff_seconds)
        with session_scope(self.db) as session:
            session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.id.in_(list(claim.rows)), OutboxEntry.claimed_by == self.worker_id
                )
                .values(
                    claimed_by=None,
                    claimed_until=None,
                    available_at=utcnow() + timedelta(seconds=delay),
                    task_uid=result.task_uids[-1] if result.task_uids else None,
                    last_error=result.error,
                )
            )

    # -- the loop -----------------------------------------------------------------------

    def run_once(self) -> BatchResult | None:
        """Claim and send one batch; None when there was nothing to do."""
        self._prune_if_due()
        self._check_index_if_due()
        claim = self.claim()
        return None if claim is None else self.send(claim)

    def drain(self, max_batches: int = 1_000_000) -> int:
        """Send batches until none is due (or `max_batches`); returns the rows sent."""
        sent = 0
        for _ in range(max_batches):
            result = self.run_once()
            if result is None or result.error:
                break
            sent += len(result.rows)
        return sent

    def run(self, stop: threading.Event) -> None:
        """Poll and send until `stop` is set."""
        log.info("search worker %s draining the outbox into %s", self.worker_id, self.index_uid)
        idle = self.settings.outbox_poll_seconds
        while not stop.is_set():
            try:
                result = self.run_once()
            except Exception:
                # The database may be briefly away; the loop must outlive it.
                log.exception("search worker iteration failed")
                stop.wait(1.0)
                continue
            if result is None:
                stop.wait(idle)
            elif result.error:
                stop.wait(min(1.0, self.settings.outbox_max_backoff_seconds))

    def _prune_if_due(self) -> None:
        now = utcnow()
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        with session_scope(self.db) as session:
            session.execute(
                delete(OutboxEntry).where(
                    OutboxEntry.done_at.is_not(None), OutboxEntry.done_at < now - DONE_RETENTION
                )
            )
