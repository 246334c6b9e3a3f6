"""GET /metrics, in one process: requests by route template and status, the gauges read
from the database at scrape time, the counters of login and search failures, and who may
scrape."""

import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.audit.service import read_head
from app.config import Settings
from app.db import Database
from app.main import create_app
from app.notifications import deliveries, fanout, webhooks
from search.worker import make_relay
from tests.factories import People, Person, ask
from tests.observability.scrape import Samples, scrape, series, value
from tests.support.live_server import free_port
from tests.support.webhook_receiver import Receiver

TOKEN = "metrics-token-for-the-tests"
METRICS = "http://testserver/metrics"
QUESTION = "/api/v1/questions/{question_id}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})


def asker(people: People) -> Person:
    """A rep who may ask in topic `claims`."""
    people.topic("claims")
    return people.make("rep")


def metrics(client: TestClient) -> Samples:
    return scrape(client, METRICS, TOKEN)


def requests(samples: Samples, route: str, status: str, method: str = "GET") -> float:
    return value(samples, "vouch_http_requests_total", method=method, route=route, status=status)


def test_requests_are_counted_by_route_template_and_status(
    client: TestClient, people: People
) -> None:
    rep = asker(people)
    question = ask(client, rep, "claims")
    before = metrics(client)
    for _ in range(3):
        assert client.get(f"/questions/{question['id']}", headers=rep.headers).status_code == 200
    assert client.get("/questions/999999", headers=rep.headers).status_code == 404
    after = metrics(client)
    assert requests(after, QUESTION, "200") - requests(before, QUESTION, "200") == 3
    assert requests(after, QUESTION, "404") - requests(before, QUESTION, "404") == 1
    # Never the raw path: no series names a question's id.
    routes = {labels["route"] for labels in series(after, "vouch_http_requests_total")}
    assert f"/api/v1/questions/{question['id']}" not in routes


def test_latency_histogram_counts_the_same_requests_in_buckets(
    client: TestClient, people: People
) -> None:
    rep = asker(people)
    question = ask(client, rep, "claims")
    labels = {"method": "GET", "route": QUESTION, "status": "200"}
    before = metrics(client)
    for _ in range(2):
        client.get(f"/questions/{question['id']}", headers=rep.headers)
    after = metrics(client)
    name = "vouch_http_request_duration_seconds"
    assert value(after, f"{name}_count", **labels) - value(before, f"{name}_count", **labels) == 2
    assert value(after, f"{name}_sum", **labels) > value(before, f"{name}_sum", **labels)
    buckets = {
        found["le"]: value(after, f"{name}_bucket", **found)
        for found in series(after, f"{name}_bucket")
        if {k: v for k, v in found.items() if k != "le"} == labels
    }
    assert {"0.1", "1.0", "+Inf"} <= set(buckets)
    assert buckets["+Inf"] == value(after, f"{name}_count", **labels)


def test_paths_that_match_no_route_share_one_label(client: TestClient) -> None:
    before = metrics(client)
    made = [f"/api/v1/{uuid.uuid4().hex}", f"http://testserver/{uuid.uuid4().hex}"]
    for path in made:
        assert client.get(path).status_code == 404
    after = metrics(client)
    assert requests(after, "unmatched", "404") - requests(before, "unmatched", "404") == 2
    routes = {labels["route"] for labels in series(after, "vouch_http_requests_total")}
    assert not [r for r in routes if any(path.rsplit("/", 1)[1] in r for path in made)]


def test_search_backlog_and_its_age_show_a_question_not_yet_indexed(
    client: TestClient, people: People
) -> None:
    # The test settings stop the relay: the question's outbox row stays pending.
    rep = asker(people)
    ask(client, rep, "claims")
    samples = metrics(client)
    assert value(samples, "vouch_outbox_pending", queue="search") >= 1
    assert value(samples, "vouch_outbox_oldest_pending_age_seconds", queue="search") > 0
    # The new question is news for the topic's experts, waiting for the fan-out too.
    assert value(samples, "vouch_outbox_pending", queue="notification_fanout") >= 1
    for queue in ("delivery_email", "delivery_webhook"):
        assert ("vouch_outbox_pending", frozenset({("queue", queue)})) in samples
    assert value(samples, "vouch_database_up") == 1


def test_audit_head_seq_is_the_chain_head(client: TestClient, people: People, db: Database) -> None:
    rep = asker(people)
    ask(client, rep, "claims")
    samples = metrics(client)
    with db.session(write=False) as session:
        head_seq, _ = read_head(session)
    assert head_seq > 0
    assert value(samples, "vouch_audit_head_seq") == head_seq


def test_a_bad_password_moves_the_login_failure_counter(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    before = metrics(client)
    refused = client.post("/auth/token", json={"username": rep.username, "password": "wrong"})
    assert refused.status_code == 401
    after = metrics(client)
    name = "vouch_login_failures_total"
    assert (
        value(after, name, reason="bad-password") - value(before, name, reason="bad-password") == 1
    )


def test_search_failures_are_counted_and_the_failing_rows_shown(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    rep = asker(people)
    ask(client, rep, "claims")
    before = metrics(client)
    # A relay whose Meilisearch does not answer: nothing listens on that port.
    relay = make_relay(
        db, settings.model_copy(update={"meili_url": f"http://127.0.0.1:{free_port()}"})
    )
    result = relay.run_once()
    assert result is not None and result.error
    after = metrics(client)
    name = "vouch_search_failures_total"
    moved = value(after, name, reason="meilisearch_error") - value(
        before, name, reason="meilisearch_error"
    )
    assert moved == 1
    assert value(after, "vouch_search_outbox_failing") >= 1


def test_metrics_answers_404_while_no_token_is_configured(settings: Settings, db: Database) -> None:
    unset = settings.model_copy(update={"metrics_token": SecretStr("")})
    with TestClient(create_app(unset, db)) as client:
        response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_metrics_refuses_a_missing_or_wrong_token(client: TestClient) -> None:
    missing = client.get(METRICS)
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = client.get(METRICS, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert (
        "vouch_http_requests_total"
        in client.get(METRICS, headers={"Authorization": f"Bearer {TOKEN}"}).text
    )


def test_metrics_is_not_in_the_openapi_schema(client: TestClient) -> None:
    assert "/metrics" not in client.get("http://testserver/openapi.json").json()["paths"]


@pytest.fixture
def unreachable_database(settings: Settings) -> Iterator[TestClient]:
    """The API on a PostgreSQL address where nothing listens."""
    down = settings.model_copy(
        update={"database_url": f"postgresql+psycopg://vouch@127.0.0.1:{free_port()}/vouch"}
    )
    database = Database(down.database_url)
    with TestClient(create_app(down, database)) as client:
        yield client
    database.dispose()


def test_with_the_database_down_a_scrape_still_answers(unreachable_database: TestClient) -> None:
    client = unreachable_database
    assert client.get("/api/v1/healthz").status_code == 200
    samples = metrics(client)
    assert value(samples, "vouch_database_up") == 0
    assert requests(samples, "/api/v1/healthz", "200") >= 1
    assert not series(samples, "vouch_outbox_pending")


def test_deliveries_are_counted_by_channel_and_outcome(
    client: TestClient, people: People, db: Database, settings: Settings, receiver: Receiver
) -> None:
    admin = people.make("admin")
    asker(people)
    for path, status in (("/fails", 503), ("/gone", 404), ("/fine", 200)):
        receiver.status[path] = status
        response = client.post(
            "/webhooks",
            json={"topic": "claims", "url": receiver.url(path), "format": "slack"},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
    before = metrics(client)
    ask(client, people.make("rep"), "claims")
    fanout.drain(db, settings)
    deliveries.drain(db, settings, webhooks.CHANNEL, webhooks.send)
    after = metrics(client)

    def moved(outcome: str) -> float:
        name, labels = "vouch_deliveries_total", {"channel": "webhook", "outcome": outcome}
        return value(after, name, **labels) - value(before, name, **labels)

    # A 503 is tried again later, a 404 is given up at once, a 200 is sent.
    assert (moved("failed"), moved("dead"), moved("sent")) == (1, 1, 1)
