"""What `/readyz` says about search: can Meilisearch answer, and how far behind is the index."""

from typing import Any

from meilisearch.errors import MeilisearchError

from app.config import Settings
from app.db import Database
from search.client import make_client
from search.relay import backlog

HEALTH_TIMEOUT_SECONDS = 1.0


def search_checks(settings: Settings, db: Database) -> dict[str, Any]:
    """`search`: "ok" when the threads index answers, else "degraded" (reads and writes go on;
    only search is affected); `outbox_backlog`: changes not yet in the index."""
    try:
        make_client(settings, HEALTH_TIMEOUT_SECONDS).get_raw_index(settings.meili_index)
        status = "ok"
    except (MeilisearchError, OSError, ValueError):
        status = "degraded"
    checks: dict[str, Any] = {"search": status}
    try:
        with db.session(write=False) as session:
            checks["outbox_backlog"] = backlog(session)
    except Exception:
        checks["outbox_backlog"] = None
    return checks
