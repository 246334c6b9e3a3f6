"""The per-user write rate limit: one upsert per write, in the write's own transaction."""

import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, case
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.config import Settings
from app.db import dialect_insert, utcnow
from app.errors import RateLimited
from app.limits.models import WriteCounter

_COUNTERS = cast(Table, WriteCounter.__table__)
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_UNCOUNTED = "vouch_uncounted_write"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


def uncounted(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose requests never count as writes: signing out and revoking a
    personal access token, which a person at the limit must still be able to do."""
    setattr(endpoint, _UNCOUNTED, True)
    return endpoint


def counts(request: Request) -> bool:
    """Whether `request` is a write that counts: any method but GET, HEAD and OPTIONS, on
    a route not marked `uncounted`."""
    if request.method in _READS:
        return False
    return not getattr(request.scope.get("endpoint"), _UNCOUNTED, False)


class WriteRateLimited(RateLimited):
    title = "Too many changes"


def window_start(now: datetime, window_seconds: int) -> datetime:
    """The start of the fixed window `now` falls in (windows are aligned on the epoch)."""
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % window_seconds, UTC)


def count_write(session: Session, settings: Settings, user_id: int) -> None:
    """Count one write of `user_id`; past the limit, raise `WriteRateLimited` (429).

    One statement: an upsert of the user's counter row that returns the new count. The
    refused write's transaction rolls back, its count with it, so only writes that take
    effect count. On PostgreSQL the row lock serialises one user's concurrent writes
    until they commit, and nobody else's.
    """
    limit = settings.write_rate_per_minute
    if limit == 0:
        return
    now = utcnow()
    window = settings.write_rate_window_seconds
    started = window_start(now, window)
    insert = dialect_insert(session, _COUNTERS).values(
        user_id=user_id, window_started_at=started, writes=1
    )
    # A newer window starts the count again; a process whose clock lags a little (still
    # in the previous window) adds to the current count rather than moving it back.
    newer = insert.excluded.window_started_at > _COUNTERS.c.window_started_at
    upsert = insert.on_conflict_do_update(
        index_elements=[_COUNTERS.c.user_id],
        set_={
            "writes": case((newer, 1), else_=_COUNTERS.c.writes + 1),
            "window_started_at": case(
                (newer, insert.excluded.window_started_at), else_=_COUNTERS.c.window_started_at
            ),
        },
    ).returning(_COUNTERS.c.writes, _COUNTERS.c.window_started_at)
    writes, counted_from = session.execute(upsert).one()
    if writes <= limit:
        return
    retry_after = max(1, math.ceil(counted_from.timestamp() + window - now.timestamp()))
    raise WriteRateLimited(
        f"You have made {limit} changes within {_period(window)}, the most allowed; "
        f"try again in {retry_after} s.",
        retry_after=retry_after,
    )


def _period(window_seconds: int) -> str:
    return "a minute" if window_seconds == 60 else f"{window_seconds} s"
