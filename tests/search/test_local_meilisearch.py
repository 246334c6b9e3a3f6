"""A LocalMeilisearch really serves the official client, and keeps its master key on disk."""

from __future__ import annotations

import stat
from pathlib import Path

import meilisearch
import pytest
from meilisearch.errors import MeilisearchApiError

from search.local_server import LocalMeilisearch, load_or_create_master_key

pytestmark = pytest.mark.slow

DOC = {"id": 1, "title": "How do I calibrate a torque wrench?"}


def _add_and_wait(client: meilisearch.Client, index_uid: str) -> None:
    client.wait_for_task(client.create_index(index_uid, {"primaryKey": "id"}).task_uid)
    task = client.index(index_uid).add_documents([DOC])
    assert client.wait_for_task(task.task_uid, timeout_in_ms=20_000).status == "succeeded"


def test_index_add_and_search(tmp_path: Path) -> None:
    with LocalMeilisearch(tmp_path / "meili") as server:
        client = meilisearch.Client(server.url, server.master_key)
        _add_and_wait(client, "questions")

        hits = client.index("questions").search("torque")["hits"]

        assert [hit["id"] for hit in hits] == [1]
        with pytest.raises(MeilisearchApiError):
            meilisearch.Client(server.url, "not-the-key").get_indexes()
    assert (tmp_path / "meili" / "meilisearch.log").stat().st_size > 0


def test_master_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "meili"
    key = load_or_create_master_key(data_dir)

    assert load_or_create_master_key(data_dir) == key
    assert len(key) >= 16  # Meilisearch's minimum for a master key
    assert stat.S_IMODE((data_dir / "master.key").stat().st_mode) == 0o600

    with LocalMeilisearch(data_dir) as first:
        assert first.master_key == key
        _add_and_wait(meilisearch.Client(first.url, key), "questions")
    with LocalMeilisearch(data_dir) as second:
        assert second.master_key == key
        hits = meilisearch.Client(second.url, key).index("questions").search("wrench")["hits"]
    assert [hit["id"] for hit in hits] == [1]
