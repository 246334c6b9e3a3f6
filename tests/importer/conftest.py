from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings, get_settings
from app.db import Database, session_scope
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from tests.factories import SETUP


@pytest.fixture
def import_env(settings: Settings, monkeypatch: pytest.MonkeyPatch, db: Database) -> Iterator[None]:
    """`vouch` pointed at the test database and its search index, with the topics the
    dumps go to."""
    monkeypatch.setenv("VOUCH_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VOUCH_MEILI_URL", settings.meili_url)
    monkeypatch.setenv("VOUCH_MEILI_KEY", settings.meili_key)
    monkeypatch.setenv("VOUCH_MEILI_INDEX", settings.meili_index)
    get_settings.cache_clear()
    with session_scope(db) as session:
        for slug, name in (("claims", "Claims"), ("motor", "Motor"), ("travel", "Travel")):
            create_topic(session, SETUP, TopicCreate(slug=slug, name=name))
    yield
    get_settings.cache_clear()


@pytest.fixture
def pages(client: TestClient) -> Iterator[TestClient]:
    """The web pages on the same app as `client` (cookies kept)."""
    browser = TestClient(client.app, base_url="http://testserver")
    yield browser
    browser.close()
