"""`vouch worker`'s own /metrics, as a scraper reads it from a real worker process: the
search relay's failures (a Meilisearch task that really failed) and the deliveries it
sent, which the API's /metrics cannot count when the worker runs apart from it."""

import httpx
import meilisearch
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from tests.factories import People, ask
from tests.observability.scrape import Samples, scrape, value
from tests.support.live_server import free_port
from tests.support.served import VouchProcess, wait_for, worker_env
from tests.support.smtp import SmtpServer

pytestmark = [pytest.mark.search, pytest.mark.slow]

TOKEN = "worker-metrics-token-for-the-tests"
EXPERTS = 2


def test_the_worker_publishes_its_search_failures_and_deliveries(
    settings: Settings, db: Database, people: People, client: TestClient, smtp: SmtpServer
) -> None:
    # An index someone else made, keyed on another field: Meilisearch accepts each
    # document addition and then fails the task (`index_primary_key_already_exists`).
    meili = meilisearch.Client(settings.meili_url, settings.meili_key)
    meili.wait_for_task(meili.index(settings.meili_index).delete().task_uid)
    created = meili.create_index(settings.meili_index, {"primaryKey": "uid"})
    assert meili.wait_for_task(created.task_uid).status == "succeeded"

    people.topic("claims")
    for _ in range(EXPERTS):
        people.make("expert", topics=("claims",), email=True)
    rep = people.make("rep")
    ask(client, rep, "claims")

    port = free_port()
    worker = VouchProcess(
        ["worker"],
        worker_env(
            settings,
            smtp.port,
            VOUCH_METRICS_TOKEN=TOKEN,
            VOUCH_WORKER_METRICS_PORT=str(port),
        ),
    )
    url = f"http://127.0.0.1:{port}/metrics"
    seen: list[Samples] = []

    def scraped() -> bool:
        try:
            with httpx.Client(timeout=2) as http:
                seen.append(scrape(http, url, TOKEN))
        except httpx.TransportError:
            return False  # not listening yet
        return (
            value(seen[-1], "vouch_search_failures_total", reason="task_failed") >= 1
            and value(seen[-1], "vouch_deliveries_total", channel="email", outcome="sent")
            >= EXPERTS
        )

    worker.start()
    try:
        wait_for(scraped, "the worker's metrics to show a failed task and the emails sent")
        assert len(smtp.mailbox.received) == EXPERTS
        # Exactly the emails it sent; nothing failed or given up.
        samples = seen[-1]
        assert value(samples, "vouch_deliveries_total", channel="email", outcome="sent") == EXPERTS
        for outcome in ("failed", "dead", "dropped"):
            assert value(samples, "vouch_deliveries_total", channel="email", outcome=outcome) == 0

        # The same rule as the API's endpoint: no token 401, another token 403.
        bare = httpx.get(url, timeout=2)
        assert bare.status_code == 401 and bare.headers["www-authenticate"] == "Bearer"
        assert bare.headers["content-type"] == "application/problem+json"
        assert bare.json()["type"] == "/problems/not-authenticated"
        wrong = httpx.get(url, headers={"Authorization": "Bearer not-it"}, timeout=2)
        assert wrong.status_code == 403 and wrong.json()["type"] == "/problems/forbidden"
        elsewhere = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        assert elsewhere.status_code == 404
    finally:
        worker.stop()
