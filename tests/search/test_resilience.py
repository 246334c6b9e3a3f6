"""Meilisearch stopped mid-run loses nothing: writes succeed, and the index catches up."""

import random
import string
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.outbox.models import OutboxEntry
from search.local_server import LocalMeilisearch
from tests.factories import People, answer, ask

pytestmark = pytest.mark.slow

CATCH_UP_SECONDS = 60


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as meili:
        yield meili


@pytest.fixture
def app_client(settings: Settings, db: Database, server: LocalMeilisearch) -> Iterator[TestClient]:
    """The API with its in-process search worker, as `vouch serve` runs it locally."""
    own = settings.model_copy(
        update={
            "meili_url": server.url,
            "meili_key": server.master_key,
            "meili_index": "threads",
            "search_worker_in_process": True,
        }
    )
    with TestClient(create_app(own, db), base_url="http://testserver/api/v1") as client:
        yield client


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(12))


def _found(client: TestClient, headers: dict[str, str], word: str) -> list[int] | None:
    response = client.get("/search", params={"q": f'"{word}"'}, headers=headers)
    if response.status_code != 200:
        return None
    return [hit["id"] for hit in response.json()["hits"]]


def test_meilisearch_stopped_mid_run_loses_nothing(
    app_client: TestClient, db: Database, server: LocalMeilisearch
) -> None:
    rng = random.Random(4)
    people = People(app_client, db)
    people.topic("claims")
    rep = people.make("rep")
    questions = [
        ask(app_client, rep, "claims", title=f"Thread {n} about lapsed cover")["id"]
        for n in range(10)
    ]

    server.stop()
    words = {}
    for n in range(100):
        word = _word(rng)
        answer(app_client, rep, questions[n % 10], f"An answer that mentions {word}.")  # 201
        words[word] = questions[n % 10]
    ready = app_client.get("/readyz").json()
    assert ready["search"] == "degraded" and ready["outbox_backlog"] > 0
    assert app_client.get("/search", headers=rep.headers).status_code == 503

    server.start()
    deadline = time.monotonic() + CATCH_UP_SECONDS
    missing = dict(words)
    while missing and time.monotonic() < deadline:
        for word, question_id in list(missing.items()):
            if _found(app_client, rep.headers, word) == [question_id]:
                del missing[word]
        time.sleep(0.2)

    assert missing == {}, f"{len(missing)} answers still not searchable after {CATCH_UP_SECONDS}s"
    everything = app_client.get("/search", params={"limit": 100}, headers=rep.headers).json()
    assert sorted(hit["id"] for hit in everything["hits"]) == sorted(questions)  # none twice
    with db.session(write=False) as session:
        pending = session.execute(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.done_at.is_(None))
        ).scalar_one()
    assert pending == 0
    assert app_client.get("/readyz").json()["search"] == "ok"
