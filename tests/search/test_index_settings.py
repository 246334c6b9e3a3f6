"""Index settings live in code; start-up applies them and reports drift."""

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from search.client import make_client
from search.index_settings import THREADS_SETTINGS, ensure_index, settings_drift
from search.relay import OutboxRelay
from tests.factories import People, ask
from tests.search.helpers import hit_ids, search


def test_drift_ignores_order_of_unordered_lists_and_unnamed_keys() -> None:
    actual = {
        **THREADS_SETTINGS,
        "filterableAttributes": list(reversed(THREADS_SETTINGS["filterableAttributes"])),
        "typoTolerance": {**THREADS_SETTINGS["typoTolerance"], "disableOnWords": []},
        "stopWords": [],
    }

    assert settings_drift(THREADS_SETTINGS, actual) == []


def test_drift_names_changed_settings_and_order_of_ranking_rules() -> None:
    actual = {
        **THREADS_SETTINGS,
        "rankingRules": list(reversed(THREADS_SETTINGS["rankingRules"])),
        "pagination": {"maxTotalHits": 5},
    }

    assert settings_drift(THREADS_SETTINGS, actual) == ["rankingRules", "pagination"]


@pytest.mark.search
def test_ensure_index_creates_then_finds_no_drift_then_repairs_drift(settings: Settings) -> None:
    client = make_client(settings)
    uid = f"{settings.meili_index}_fresh"

    first = ensure_index(client, uid)
    second = ensure_index(client, uid)
    task = client.index(uid).update_settings({"rankingRules": ["words", "typo"]})
    client.wait_for_task(task.task_uid)
    repaired = ensure_index(client, uid)

    assert first.created and set(first.drifted) == set(THREADS_SETTINGS)
    assert not second.created and second.drifted == []
    assert repaired.drifted == ["rankingRules"]
    assert client.index(uid).get_settings()["rankingRules"] == THREADS_SETTINGS["rankingRules"]
    client.delete_index(uid)


@pytest.mark.search
def test_a_worker_that_finds_no_index_creates_it_and_queues_every_thread(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    q = ask(client, rep, "claims", title="Backfilled after the index was lost")
    OutboxRelay(db, settings, make_client(settings)).drain()
    make_client(settings).wait_for_task(
        make_client(settings).delete_index(settings.meili_index).task_uid
    )

    OutboxRelay(db, settings, make_client(settings)).drain()

    assert hit_ids(search(client, rep, q="backfilled")) == [q["id"]]
