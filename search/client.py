"""Meilisearch clients built from the settings."""

import threading

import meilisearch

from app.config import Settings


def make_client(settings: Settings, timeout: float | None = None) -> meilisearch.Client:
    """A client for `settings.meili_url`; `timeout` (seconds) bounds every HTTP call."""
    seconds = settings.meili_timeout_seconds if timeout is None else timeout
    # The client's annotation says int, but it hands the value to `requests`, which takes floats.
    return meilisearch.Client(settings.meili_url, settings.meili_key or None, timeout=seconds)  # type: ignore[arg-type]


class ThreadLocalClients:
    """One client per thread.

    The official client mutates a shared headers dict on every request (it sets or
    removes Content-Type), so one instance must not serve concurrent requests.
    """

    def __init__(self, settings: Settings, timeout: float | None = None) -> None:
        self.settings = settings
        self._timeout = timeout
        self._local = threading.local()

    def get(self) -> meilisearch.Client:
        client: meilisearch.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = make_client(self.settings, self._timeout)
        return client
