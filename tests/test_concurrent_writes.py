"""Eight writers at once: none fails (no "database is locked" on SQLite) and the chain holds."""

import threading

import httpx
from sqlalchemy import func, select

from app.answers.models import Answer
from app.audit.service import verify_chain
from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import People, ask
from tests.support.live_server import live_server

WRITERS = 8
ANSWERS_EACH = 15


def test_eight_concurrent_writers_all_succeed(
    settings: Settings, db: Database, people: People
) -> None:
    writers = [people.make("rep") for _ in range(WRITERS)]
    question_id = ask(people.client, writers[0], people.topic("claims"))["id"]
    barrier = threading.Barrier(WRITERS)
    failures: list[str] = []

    def write(token_headers: dict[str, str], base: str) -> None:
        with httpx.Client(base_url=f"{base}/api/v1", headers=token_headers, timeout=60) as http:
            barrier.wait()
            for n in range(ANSWERS_EACH):
                response = http.post(
                    f"/questions/{question_id}/answers", json={"body": f"Concurrent answer {n}."}
                )
                if response.status_code != 201:
                    failures.append(f"{response.status_code}: {response.text}")

    with live_server(create_app(settings, db)) as base:
        threads = [threading.Thread(target=write, args=(w.headers, base)) for w in writers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    with db.session(write=False) as session:
        stored = session.execute(
            select(func.count()).select_from(Answer).where(Answer.question_id == question_id)
        ).scalar_one()
        report = verify_chain(session)
    assert stored == WRITERS * ANSWERS_EACH
    assert report.ok, report.reason
