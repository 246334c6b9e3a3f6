"""Running the outbox relay: as `vouch worker`, or as a thread inside the API process."""

import logging

from app.background import BackgroundLoop
from app.config import Settings
from app.db import Database
from search.client import make_client
from search.relay import OutboxRelay

log = logging.getLogger("vouch.search.worker")


def make_relay(db: Database, settings: Settings) -> OutboxRelay:
    """A relay whose Meilisearch calls may wait out a slow task, but not a dead server."""
    return OutboxRelay(db, settings, make_client(settings))


def start_search_worker(db: Database, settings: Settings) -> BackgroundLoop | None:
    """The in-process worker of the API, unless `search_worker_in_process` is off."""
    if not settings.search_worker_in_process:
        return None
    return BackgroundLoop(make_relay(db, settings).run, "vouch-search-worker").start()
