"""Sixteen writers at once: every change that answered 2xx has its one audit event, and
the chain is gap-free and verifies. The events are appended at their transaction's
commit (the head held for that statement and the commit only); this is the proof that
doing so loses, doubles and reorders nothing."""

import threading
from collections import Counter

import httpx
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.config import Settings
from app.db import Database
from app.main import create_app
from tests.factories import People, answer, ask
from tests.support.live_server import live_server

WRITERS = 16
EACH = 8


def test_sixteen_writers_each_change_one_event_in_a_gap_free_chain(
    settings: Settings, db: Database, people: People
) -> None:
    topic = people.topic("claims")
    asker = people.make("rep")
    question = ask(people.client, asker, topic)
    target = answer(people.client, asker, question["id"])
    writers = [people.make("rep") for _ in range(WRITERS)]
    barrier = threading.Barrier(WRITERS)
    made: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()

    def write(n: int, headers: dict[str, str], base: str) -> None:
        with httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=60) as http:
            barrier.wait()
            for i in range(EACH):
                kind = (n + i) % 3
                if kind == 0:
                    body = {
                        "title": f"Writer {n} asks question {i}?",
                        "body": "Why?",
                        "topic": topic,
                    }
                    response, action = http.post("/questions", json=body), "question.create"
                elif kind == 1:
                    body = {"body": f"Writer {n} answers, take {i}."}
                    response = http.post(f"/questions/{question['id']}/answers", json=body)
                    action = "answer.create"
                else:
                    value = 1 if i % 2 else -1
                    response = http.post(f"/answers/{target['id']}/votes", json={"value": value})
                    action = "vote.cast"
                with lock:
                    if response.is_success:
                        made[action] += 1
                    else:
                        failures.append(f"{response.status_code}: {response.text}")

    before = Counter(e.action for e in events(db))
    with live_server(create_app(settings, db)) as base:
        threads = [
            threading.Thread(target=write, args=(n, w.headers, base)) for n, w in enumerate(writers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
    chain = events(db)
    after = Counter(e.action for e in chain)
    for action, count in made.items():
        assert after[action] - before[action] == count, action
    assert sum(made.values()) == WRITERS * EACH
    assert [e.seq for e in chain] == list(range(1, len(chain) + 1))  # no gap, no double
    with db.session(write=False) as session:
        report = verify_chain(session)
    assert report.ok and report.head_seq == len(chain), report.reason


def events(db: Database) -> list[AuditEvent]:
    with db.session(write=False) as session:
        return list(session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars())
