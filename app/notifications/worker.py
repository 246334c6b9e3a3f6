"""The fan-out's loop in a thread: beside the search relay in `vouch worker`, or inside
the API process in the local set-up."""

from functools import partial

from app.background import BackgroundLoop
from app.config import Settings
from app.db import Database
from app.notifications import fanout


def fanout_loop(db: Database, settings: Settings) -> BackgroundLoop:
    """The fan-out in a daemon thread, not started yet."""
    return BackgroundLoop(partial(fanout.run, db, settings), "vouch-notification-fanout")


def start_fanout_worker(db: Database, settings: Settings) -> BackgroundLoop | None:
    """The API's in-process fan-out, unless `notification_worker_in_process` is off."""
    if not settings.notification_worker_in_process:
        return None
    return fanout_loop(db, settings).start()
