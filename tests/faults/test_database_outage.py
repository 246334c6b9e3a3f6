"""PostgreSQL stopped for 20 seconds under a write load: the API answers 503
`database-unavailable` at once (never a 500, never a hang), `/readyz` says so, and
service comes back by itself when the database does, with nothing committed lost."""

import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.main import create_app
from app.migrate import upgrade
from tests.factories import People
from tests.faults.load import REQUEST_TIMEOUT_SECONDS, Load, assert_nothing_lost, summary
from tests.support.postgres import EphemeralPostgres
from tests.support.served import VouchServer, vouch_env

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 20.0
RECOVERY_SECONDS = 10.0


@pytest.fixture
def own_postgres(backend: str) -> Iterator[EphemeralPostgres]:
    """A durable PostgreSQL of this test's own, since it is stopped and started."""
    if backend != "postgres":
        pytest.skip("stops and starts a PostgreSQL server (run with --db postgres)")
    with EphemeralPostgres(durable=True) as pg:
        upgrade(pg.url)
        yield pg


@contextmanager
def people_on(settings: Settings, db: Database) -> Iterator[People]:
    """People made on the test's own database, logged in through an in-process app."""
    with TestClient(create_app(settings, db), base_url="http://testserver/api/v1") as client:
        yield People(client, db)


def _readiness(server: VouchServer) -> tuple[int, dict[str, object]]:
    response = httpx.get(f"{server.url}/readyz", timeout=REQUEST_TIMEOUT_SECONDS)
    return response.status_code, response.json()


def test_database_stopped_under_load_answers_503_and_recovers_by_itself(
    own_postgres: EphemeralPostgres, settings: Settings
) -> None:
    own = settings.model_copy(update={"database_url": own_postgres.url})
    db = Database(own.database_url)
    server = VouchServer(vouch_env(own, VOUCH_LOG_LEVEL="ERROR"), workers=2)
    try:
        with people_on(own, db) as people:
            people.topic("claims")
            tokens = [people.make("rep").token for _ in range(8)]
        server.start_and_wait()
        load = Load(server.url, tokens, "claims").start()
        try:
            time.sleep(3)
            own_postgres.pause()
            stopped_at = load.elapsed()
            time.sleep(OUTAGE_SECONDS / 2)
            down_status, down_body = _readiness(server)
            time.sleep(OUTAGE_SECONDS / 2)
            resuming_at = load.elapsed()
            own_postgres.resume()
            resumed_at = load.elapsed()
            time.sleep(RECOVERY_SECONDS)
        finally:
            outcomes = load.stop()
        up_status, _ = _readiness(server)
    finally:
        server.kill()

    during = [o for o in outcomes if stopped_at < o.at and o.at + o.seconds < resuming_at]
    after = [o for o in outcomes if o.at > resumed_at + 2]
    print(f"\nduring the outage: {summary(during)}; after it: {summary(after)}")
    assert not [o for o in outcomes if o.status is not None and o.status >= 500 and o.status != 503]
    assert not [o for o in outcomes if o.status is None], "a request got no answer"
    assert max(o.seconds for o in outcomes) < REQUEST_TIMEOUT_SECONDS
    assert during and all(
        o.status == 503 and o.problem == "database-unavailable" for o in during
    ), summary(during)
    assert down_status == 503 and str(down_body["database"]).startswith("unavailable")
    # Back by itself: the last seconds are all successes again, with no restart.
    assert after and all(200 <= (o.status or 0) < 300 for o in after), summary(after)
    assert up_status == 200
    counts = assert_nothing_lost(db, outcomes)
    print(f"checked: {counts}")
    db.dispose()
