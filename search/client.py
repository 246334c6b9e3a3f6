"""Meilisearch clients built from the settings."""

import threading
from typing import Any

import meilisearch
import requests
from meilisearch._httprequests import HttpRequests
from meilisearch.config import Config
from meilisearch.index import Index

from app.config import Settings


def make_client(settings: Settings, timeout: float | None = None) -> meilisearch.Client:
    """A client for `settings.meili_url`; `timeout` (seconds) bounds every HTTP call."""
    seconds = settings.meili_timeout_seconds if timeout is None else timeout
    # The client's annotation says int, but it hands the value to `requests`, which takes floats.
    return meilisearch.Client(settings.meili_url, settings.meili_key or None, timeout=seconds)  # type: ignore[arg-type]


class _SessionHttp(HttpRequests):
    """The official client's HTTP layer (and its error mapping) over one `requests.Session`.

    The stock layer calls `requests.get`/`requests.post`, which build a new session for
    every request. Each request still asks for `Connection: close`: on a kept-alive
    connection Meilisearch's larger answers (search hits) wait ~40 ms for a delayed ACK
    (its second write is held back by Nagle's algorithm), while a fresh loopback
    connection costs a fraction of a millisecond.
    """

    def __init__(self, config: Config, session: requests.Session) -> None:
        super().__init__(config)
        self.session = session
        # Per request, `requests` would otherwise look up proxies in the environment and
        # read ~/.netrc; the search engine is reached directly.
        session.trust_env = False
        self.headers["Connection"] = "close"
        # Compressing answers on a local network costs both ends more CPU than it saves.
        self.headers["Accept-Encoding"] = "identity"

    def get(self, path: str) -> Any:
        return self.send_request(self.session.get, path)

    def post(
        self,
        path: str,
        body: Any = None,
        content_type: str | None = "application/json",
        *,
        serializer: Any = None,
    ) -> Any:
        return self.send_request(self.session.post, path, body, content_type, serializer=serializer)


class ThreadLocalClients:
    """Per-thread index handles for the API's request threads.

    One per thread because the official client mutates a shared headers dict on
    every request (it sets or removes Content-Type), so one instance must not serve
    concurrent requests.
    """

    def __init__(self, settings: Settings, timeout: float | None = None) -> None:
        self.settings = settings
        self._timeout = timeout
        self._local = threading.local()

    def index(self, uid: str) -> Index:
        indexes: dict[str, Index] | None = getattr(self._local, "indexes", None)
        if indexes is None:
            indexes = self._local.indexes = {}
        index = indexes.get(uid)
        if index is None:
            index = make_client(self.settings, self._timeout).index(uid)
            index.http = _SessionHttp(index.config, requests.Session())
            indexes[uid] = index
        return index
