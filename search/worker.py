"""Running the outbox relay: as `vouch worker`, or as a thread inside the API process."""

import logging
import threading

from app.config import Settings
from app.db import Database
from search.client import make_client
from search.relay import OutboxRelay

log = logging.getLogger("vouch.search.worker")


def make_relay(db: Database, settings: Settings) -> OutboxRelay:
    """A relay whose Meilisearch calls may wait out a slow task, but not a dead server."""
    return OutboxRelay(db, settings, make_client(settings))


class BackgroundWorker:
    """The relay's loop in a daemon thread; `stop()` ends it after the current batch."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.relay = make_relay(db, settings)
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self.relay.run, args=(self._stop,), name="vouch-search-worker", daemon=True
        )

    def start(self) -> "BackgroundWorker":
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)


def start_search_worker(db: Database, settings: Settings) -> BackgroundWorker | None:
    """The in-process worker of the API, unless `search_worker_in_process` is off."""
    if not settings.search_worker_in_process:
        return None
    return BackgroundWorker(db, settings).start()
