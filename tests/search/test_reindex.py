"""`vouch reindex`: a fresh index swapped in while searches keep working."""

import threading
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import app as cli
from app.config import Settings, get_settings
from app.db import Database, session_scope
from app.main import create_app
from app.questions.schemas import QuestionCreate
from app.questions.service import create_question
from app.users.models import User
from search.client import make_client
from search.reindex import rebuild_uid, reindex
from tests.factories import SETUP, People, Person, ask
from tests.search.helpers import drain, hit_ids, search

pytestmark = pytest.mark.search

THREADS = 60


def _threads(db: Database, person: Person, count: int) -> list[int]:
    with session_scope(db) as session:
        author = session.get(User, person.id)
        assert author is not None
        return [
            create_question(
                session,
                SETUP,
                author,
                QuestionCreate(title=f"Reindexed thread number {n}", body="b", topic="claims"),
            ).id
            for n in range(count)
        ]


def test_searches_during_a_reindex_never_fail(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    ids = _threads(db, rep, THREADS)
    drain(db, settings)
    done = threading.Event()
    outcomes: list[tuple[int, int]] = []  # (status, number of threads found)

    def keep_searching() -> None:
        searcher = TestClient(create_app(settings, db), base_url="http://testserver/api/v1")
        while not done.is_set() or len(outcomes) < 20:
            response = searcher.get(
                "/search", params={"q": "reindexed", "limit": 100}, headers=rep.headers
            )
            found = len(response.json().get("hits", [])) if response.status_code == 200 else -1
            outcomes.append((response.status_code, found))

    searching = threading.Thread(target=keep_searching)
    searching.start()
    try:
        report = reindex(db, settings, make_client(settings), batch_size=5)
    finally:
        done.set()
        searching.join(timeout=60)

    assert report.threads == THREADS
    assert len(outcomes) >= 20
    assert set(outcomes) == {(200, THREADS)}
    assert sorted(hit_ids(search(client, rep, q="reindexed", limit=100))) == sorted(ids)
    uids = {index.uid for index in make_client(settings).get_indexes()["results"]}
    assert rebuild_uid(settings.meili_index) not in uids


def test_reindex_queues_again_the_threads_changed_while_it_ran(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims", title="A thread changed just now")
    drain(db, settings)

    report = reindex(db, settings, make_client(settings))

    assert report.requeued == 1
    assert client.get("/readyz").json()["outbox_backlog"] == 1
    assert hit_ids(search(client, rep, q="changed")) == [q["id"]]


def test_reindex_drops_threads_deleted_since_they_were_indexed(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims", title="A thread soon to be deleted")
    drain(db, settings)
    client.delete(f"/questions/{q['id']}", headers=rep.headers)

    reindex(db, settings, make_client(settings))

    assert hit_ids(search(client, rep, q="deleted")) == []


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("database_url", "meili_url", "meili_key", "meili_index"):
        monkeypatch.setenv(f"VOUCH_{name.upper()}", str(getattr(settings, name)))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_the_reindex_command_shows_progress_and_swaps(
    cli_env: None, client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    ids = _threads(db, rep, 12)

    result = CliRunner().invoke(cli, ["reindex", "--batch-size", "5"])

    assert result.exit_code == 0, result.output
    assert "indexed 5 of 12 threads" in result.output
    assert "indexed 12 of 12 threads" in result.output
    assert "swapped in" in result.output
    assert sorted(hit_ids(search(client, rep, q="reindexed"))) == sorted(ids)


def test_the_reindex_command_fails_cleanly_without_meilisearch(
    cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOUCH_MEILI_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()

    result = CliRunner().invoke(cli, ["reindex"])

    assert result.exit_code == 1
    assert "reindex failed" in result.output
