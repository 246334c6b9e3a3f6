"""The per-user write rate limit, over HTTP: the API and the web forms, shared by every
app instance on one database."""

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.limits.models import WriteCounter
from app.main import create_app
from tests.factories import People, Person, ask, count_rows, send_rejected
from tests.support.served import VouchServer, vouch_env
from tests.web.helpers import sign_in, submit

API = "http://testserver/api/v1"
WRITES = ("questions", "comments", "audit_events", "search_outbox")
LIMIT = 3


def question(n: int = 0) -> dict[str, Any]:
    return {"title": f"How do I file claim number {n}?", "body": "Details.", "topic": "claims"}


def limited(settings: Settings, per_window: int = LIMIT, window: int = 86_400) -> Settings:
    # A day's window: the writes of one test never straddle two windows.
    return settings.model_copy(
        update={"write_rate_per_minute": per_window, "write_rate_window_seconds": window}
    )


@pytest.fixture
def api(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(limited(settings), db), base_url=API) as client:
        yield client


@pytest.fixture
def rep(people: People) -> Person:
    people.topic("claims")
    return people.make("rep")


def post_question(client: TestClient, person: Person, n: int = 0) -> httpx.Response:
    return client.post("/questions", json=question(n), headers=person.headers)


def test_writes_past_the_limit_get_429_with_retry_after_and_write_nothing(
    api: TestClient, db: Database, rep: Person
) -> None:
    for n in range(LIMIT):
        assert post_question(api, rep, n).status_code == 201
    refused = send_rejected(api, db, rep, "POST", "/questions", json=question(99), tables=WRITES)
    assert refused.status_code == 429
    assert refused.json()["type"] == "/problems/rate-limited"
    assert f"{LIMIT} changes" in refused.json()["detail"]
    assert 1 <= int(refused.headers["retry-after"]) <= 86_400


def test_every_kind_of_write_counts_and_reads_do_not(
    api: TestClient, people: People, rep: Person
) -> None:
    asked = post_question(api, rep).json()
    for _ in range(10):
        assert api.get(f"/questions/{asked['id']}", headers=rep.headers).status_code == 200
    helper = people.make("rep")
    replied = api.post(
        f"/questions/{asked['id']}/answers", json={"body": "Try this."}, headers=helper.headers
    )
    assert replied.status_code == 201
    vote = {"value": 1}
    assert (
        api.post(f"/answers/{replied.json()['id']}/votes", json=vote, headers=rep.headers)
    ).status_code == 200
    edit = {"body": "Details, and more."}
    assert api.patch(f"/questions/{asked['id']}", json=edit, headers=rep.headers).status_code == 200
    deleted = api.delete(f"/questions/{asked['id']}", headers=rep.headers)
    assert deleted.status_code == 429


def test_another_user_is_not_held_back_by_one_at_the_limit(
    api: TestClient, people: People, rep: Person
) -> None:
    for n in range(LIMIT):
        post_question(api, rep, n)
    assert post_question(api, rep, 9).status_code == 429
    other = people.make("rep")
    assert post_question(api, other, 9).status_code == 201


def test_a_user_at_the_limit_can_still_sign_out(api: TestClient, rep: Person) -> None:
    for n in range(LIMIT):
        post_question(api, rep, n)
    assert post_question(api, rep, 9).status_code == 429
    assert api.post("/auth/logout", headers=rep.headers).status_code == 204
    assert api.get("/me", headers=rep.headers).status_code == 401


def test_making_a_personal_token_counts_but_revoking_it_on_the_page_does_not(
    api: TestClient, db: Database, rep: Person
) -> None:
    made = api.post("/auth/tokens", json={"name": "report"}, headers=rep.headers)
    assert made.status_code == 201
    for n in range(LIMIT - 1):
        assert post_question(api, rep, n).status_code == 201
    refused = api.post("/auth/tokens", json={"name": "another"}, headers=rep.headers)
    assert refused.status_code == 429
    pages = TestClient(api.app, base_url="http://testserver")
    csrf = sign_in(pages, rep.username)
    revoked = submit(pages, f"/profile/tokens/{made.json()['id']}/revoke", {}, csrf)
    assert revoked.status_code == 303
    assert (
        api.get("/me", headers={"Authorization": f"Bearer {made.json()['token']}"}).status_code
        == 401
    )
    pages.close()


def test_a_user_at_the_limit_can_revoke_a_personal_token(api: TestClient, rep: Person) -> None:
    made = api.post("/auth/tokens", json={"name": "report"}, headers=rep.headers).json()
    for n in range(LIMIT - 1):
        post_question(api, rep, n)
    assert post_question(api, rep, 9).status_code == 429
    assert api.delete(f"/auth/tokens/{made['id']}", headers=rep.headers).status_code == 204
    assert api.get("/me", headers={"Authorization": f"Bearer {made['token']}"}).status_code == 401


def test_a_page_user_at_the_limit_can_still_sign_out(
    api: TestClient, db: Database, rep: Person
) -> None:
    pages = TestClient(api.app, base_url="http://testserver")
    csrf = sign_in(pages, rep.username)
    for n in range(LIMIT):
        post_question(api, rep, n)
    signed_out = submit(pages, "/logout", {}, csrf)
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/login"
    pages.close()


def test_a_refused_write_does_not_use_up_the_allowance(api: TestClient, rep: Person) -> None:
    invalid = api.post("/questions", json={**question(), "title": "short"}, headers=rep.headers)
    assert invalid.status_code == 422
    for n in range(LIMIT):
        assert post_question(api, rep, n).status_code == 201


def test_a_new_window_allows_writes_again(settings: Settings, db: Database, rep: Person) -> None:
    # A two-second window, so the test sees one end; the limit of one write per window.
    app = create_app(limited(settings, per_window=1, window=2), db)
    with TestClient(app, base_url=API) as client:
        refused = None
        for n in range(3):  # the first two may fall on either side of a window's end
            response = post_question(client, rep, n)
            if response.status_code == 429:
                refused = response
                break
        assert refused is not None, "the second write in one window was not refused"
        wait = int(refused.headers["retry-after"])
        assert 1 <= wait <= 2
        time.sleep(wait)
        assert post_question(client, rep, 7).status_code == 201


def test_the_count_is_shared_by_two_app_instances_on_one_database(
    settings: Settings, rep: Person
) -> None:
    # Two apps with their own engines and pools: as two API processes behind a balancer.
    first_db, second_db = Database(settings.database_url), Database(settings.database_url)
    try:
        with (
            TestClient(create_app(limited(settings), first_db), base_url=API) as first,
            TestClient(create_app(limited(settings), second_db), base_url=API) as second,
        ):
            assert post_question(first, rep, 1).status_code == 201
            assert post_question(second, rep, 2).status_code == 201
            assert post_question(first, rep, 3).status_code == 201
            assert post_question(second, rep, 4).status_code == 429
            assert post_question(first, rep, 5).status_code == 429
    finally:
        first_db.dispose()
        second_db.dispose()


@pytest.mark.slow
def test_two_server_processes_at_once_let_through_exactly_the_limit(
    settings: Settings, db: Database, rep: Person
) -> None:
    # Two `vouch serve` processes on one database, 24 writes of one user sent to them at
    # once, half to each: the count is one row in the database, so exactly the limit
    # gets through, whichever process answers and however the requests interleave.
    limit, sent = 5, 24
    env = vouch_env(settings) | {
        "VOUCH_WRITE_RATE_PER_MINUTE": str(limit),
        "VOUCH_WRITE_RATE_WINDOW_SECONDS": "86400",
    }
    servers = [VouchServer(env), VouchServer(env)]
    try:
        for server in servers:
            server.start_and_wait()

        def write(n: int) -> int:
            url = f"{servers[n % 2].url}/questions"
            return httpx.post(url, json=question(n), headers=rep.headers, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=sent) as pool:
            statuses = Counter(pool.map(write, range(sent)))
    finally:
        for server in servers:
            server.kill()
    assert statuses == {201: limit, 429: sent - limit}, statuses
    assert count_rows(db, ("questions",)) == {"questions": limit}


def test_the_counter_keeps_one_row_per_user(api: TestClient, db: Database, rep: Person) -> None:
    for n in range(LIMIT + 2):
        post_question(api, rep, n)
    with db.session(write=False) as session:
        rows = session.execute(select(WriteCounter).where(WriteCounter.user_id == rep.id)).all()
    assert len(rows) == 1
    assert rows[0][0].writes == LIMIT  # the refused writes rolled their count back


def test_a_form_past_the_limit_shows_a_readable_page_and_shares_the_api_count(
    api: TestClient, db: Database, rep: Person
) -> None:
    thread = ask(api, rep, "claims")
    for _ in range(LIMIT - 2):  # the question above was the first write
        assert post_question(api, rep).status_code == 201
    pages = TestClient(api.app, base_url="http://testserver")
    csrf = sign_in(pages, rep.username)
    comment = {"body": "One more thing."}
    assert submit(pages, f"/questions/{thread['id']}/comments", comment, csrf).status_code == 303
    before = count_rows(db, WRITES)
    refused = submit(pages, f"/questions/{thread['id']}/comments", comment, csrf)
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert int(refused.headers["retry-after"]) >= 1
    assert "Too many changes" in refused.text
    assert f"You have made {LIMIT} changes" in refused.text
    assert count_rows(db, WRITES) == before
    pages.close()


def test_off_when_the_limit_is_zero(settings: Settings, db: Database, rep: Person) -> None:
    with TestClient(create_app(limited(settings, per_window=0), db), base_url=API) as client:
        for n in range(LIMIT + 2):
            assert post_question(client, rep, n).status_code == 201
