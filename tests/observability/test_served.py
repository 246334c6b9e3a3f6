"""Metrics and logs of a real `vouch serve`: two worker processes count as one service,
a dead worker's counts stay, and the log is JSON lines without a secret in them."""

import json
import os
import signal
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from app.audit.service import Actor, AuditContext
from app.config import Settings
from app.db import Database, session_scope
from app.notifications import webhooks
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.schemas import UserCreate
from app.users.service import create_user
from tests.factories import PASSWORD, SETUP
from tests.observability.scrape import Samples, scrape, value
from tests.support.live_server import listening_sockets
from tests.support.served import vouch_serve, wait_for, workers_of
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads processes from /proc"
)

TOKEN = "metrics-token-for-the-served-tests"
HEALTHZ = {"method": "GET", "route": "/api/v1/healthz", "status": "200"}


def fresh_scrape(port: int) -> Samples:
    """A scrape on a connection of its own: whichever worker the kernel hands it to."""
    with httpx.Client() as client:
        return scrape(client, f"http://127.0.0.1:{port}/metrics", TOKEN)


def healthz_count(samples: Samples) -> float:
    return value(samples, "vouch_http_requests_total", **HEALTHZ)


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def test_two_workers_count_every_request_whichever_answers(settings: Settings) -> None:
    with vouch_serve(settings.database_url, 2, {"VOUCH_METRICS_TOKEN": TOKEN}) as (_, port):
        before = healthz_count(fresh_scrape(port))
        made = 20
        for _ in range(made):  # each on a new connection: spread over both workers
            assert httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz").status_code == 200
        counted = [healthz_count(fresh_scrape(port)) - before for _ in range(4)]
    assert counted == [made] * 4


def test_a_dead_workers_counts_stay_and_the_metrics_folder_goes_at_the_end(
    settings: Settings,
) -> None:
    with vouch_serve(settings.database_url, 2, {"VOUCH_METRICS_TOKEN": TOKEN}) as (process, port):
        first, second = workers_of(process.pid)
        folder = Path(environment_of(first)["PROMETHEUS_MULTIPROC_DIR"])
        assert environment_of(second)["PROMETHEUS_MULTIPROC_DIR"] == str(folder)
        assert folder.is_dir()
        before = healthz_count(fresh_scrape(port))
        for _ in range(10):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/healthz")
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: first not in workers_of(process.pid), "the dead worker to be reaped")
        wait_for(lambda: len(workers_of(process.pid)) == 2, "a worker to replace it")
        wait_for(lambda: listening_sockets(port) == 2, "the new worker to listen")
        assert [healthz_count(fresh_scrape(port)) - before for _ in range(3)] == [10] * 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert not folder.exists()


def test_log_lines_are_json_with_the_request_fields_and_never_a_secret(
    settings: Settings, db: Database, tmp_path: Path, receiver: Receiver
) -> None:
    # A webhook whose URL holds its secret in the path, as a Slack one does.
    hook_path = f"/services/{uuid.uuid4().hex}"
    with session_scope(db) as session:
        user_id = create_user(
            session,
            SETUP,
            UserCreate(username="logged", display_name="Logged", password=PASSWORD, roles=["rep"]),
        ).id
        topic = create_topic(session, SETUP, TopicCreate(slug="claims", name="Claims"))
        admin = AuditContext(actor=Actor(user_id, "logged", ("admin",)))
        webhooks.create(
            session, admin, settings, topic, receiver.url(hook_path), webhooks.Format.slack
        )
    wrong_password = f"wrong-{uuid.uuid4().hex}"
    in_query = f"query-{uuid.uuid4().hex}"
    log = tmp_path / "stderr.log"
    env = {
        "VOUCH_LOG_FORMAT": "json",
        "VOUCH_LOG_LEVEL": "INFO",
        "VOUCH_METRICS_TOKEN": TOKEN,
        "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "true",
        "VOUCH_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    with log.open("wb") as stderr, vouch_serve(settings.database_url, 1, env, stderr) as served:
        process, port = served
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as client:
            login = {"username": "logged", "password": PASSWORD}
            token = client.post("/api/v1/auth/token", json=login).json()["access_token"]
            refused = {"username": "logged", "password": wrong_password}
            assert client.post("/api/v1/auth/token", json=refused).status_code == 401
            me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
            client.cookies.set("vouch_session", token)
            assert client.get("/").status_code == 200
            client.cookies.clear()
            listed = client.get("/api/v1/questions", params={"token": in_query, "q": in_query})
            assert listed.status_code in (200, 401)
            assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).is_success
            question = {"title": "A lapsed policy?", "body": "Paid late.", "topic": "claims"}
            bearer = {"Authorization": f"Bearer {token}"}
            assert client.post("/api/v1/questions", json=question, headers=bearer).is_success
            wait_for(lambda: bool(receiver.to(hook_path)), "the webhook call")
        # Stopped as a service manager does: uvicorn finishes and re-raises the signal.
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)

    text = log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "vouch.access"]
    (seen,) = [line for line in access if line["route"] == "/api/v1/me"]
    assert seen["user_id"] == user_id
    assert seen["request_id"] == me.headers["x-request-id"]
    assert (seen["method"], seen["status"]) == ("GET", 200)
    assert seen["duration_ms"] > 0
    assert [line["user_id"] for line in access if line["route"] == "/"] == [user_id]
    statuses = [line["status"] for line in access if line["route"] == "/api/v1/auth/token"]
    assert sorted(statuses) == [200, 401]
    # uvicorn's error log through the same formatter; its access log off.
    assert any(line["logger"] == "uvicorn.error" for line in lines)
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]
    for secret in (PASSWORD, wrong_password, token, in_query, TOKEN, hook_path):
        assert secret not in text
