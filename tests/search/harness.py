"""The Meilisearch side of the test harness: one real server per session, one index per test."""

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.config import Settings
from search.client import make_client
from search.index_settings import ensure_index
from search.local_server import LocalMeilisearch

# Nothing listens on the discard port: tests that do not ask for search see it down, fast.
UNREACHABLE_MEILI = "http://127.0.0.1:9"
_index_numbers = itertools.count(1)


def start_meilisearch(tmp: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp / "meili") as server:
        yield server


def search_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings fields for a test: a fresh, empty index of its own on the session's
    Meilisearch when the test is marked `search`, an unreachable server otherwise."""
    if request.node.get_closest_marker("search") is None:
        return {"meili_url": UNREACHABLE_MEILI}
    server: LocalMeilisearch = request.getfixturevalue("meili_server")
    fields = {
        "meili_url": server.url,
        "meili_key": server.master_key,
        "meili_index": f"threads_test_{next(_index_numbers)}",
    }
    client = make_client(Settings(**fields, _env_file=None))  # type: ignore[arg-type]
    ensure_index(client, fields["meili_index"])
    request.addfinalizer(lambda: client.delete_index(fields["meili_index"]))
    return fields
