"""Validation at scale: list learning needs and post reviews over HTTP with 300,000 answers.

    .venv/bin/python -m bench.validation_bench [--answers 300000]

Starts its own PostgreSQL, loads topics, people, 100,000 questions, the answers (a third
of them reviewed) and a few thousand learning-need signals straight into the database,
then drives the API (`vouch serve` in a subprocess) over HTTP and prints medians and p95.
Targets (issue 3): listing learning needs <= 20 ms median; a review, with its audit event,
reputation and signal update, <= 30 ms median.
"""

import argparse
import random
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import insert, select

from app.answers.models import Answer
from app.auth.passwords import hash_password
from app.db import create_db_engine
from app.migrate import upgrade
from app.questions.models import Question
from app.signals.models import LearningNeed, LearningNeedEvent
from app.topics.models import Topic
from app.users.models import User, user_expert_topics
from bench.common import api_server, postgres, summary, timed

TOPICS = 10
REPS = 500
EXPERTS_PER_TOPIC = 3
PASSWORD = "bench-password"
STATES = ["unreviewed"] * 6 + ["endorsed"] * 2 + ["corrected", "rejected"]
WORDS = [
    "policy",
    "claim",
    "excess",
    "cover",
    "renewal",
    "premium",
    "customer",
    "broker",
    "windscreen",
    "contents",
    "buildings",
    "travel",
    "cancellation",
    "cooling-off",
    "complaint",
    "vulnerable",
    "payment",
    "direct-debit",
    "schedule",
    "endorsement",
    "underwriter",
    "liability",
    "accidental",
    "damage",
    "theft",
    "flood",
    "subsidence",
]


def sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def load(url: str, answers: int, rng: random.Random) -> None:
    engine = create_db_engine(url)
    now = datetime.now(UTC)
    password_hash = hash_password(PASSWORD)
    questions = answers // 3
    with engine.begin() as conn:
        conn.execute(
            insert(Topic),
            [
                {
                    "id": t,
                    "slug": f"topic-{t}",
                    "name": f"Topic {t}",
                    "description": "",
                    "required_endorsements": 1,
                    "review_interval_days": 180,
                }
                for t in range(1, TOPICS + 1)
            ],
        )
        people = [
            {
                "id": i,
                "username": f"rep{i}",
                "display_name": f"Rep {i}",
                "password_hash": password_hash,
                "roles": ["rep"],
                "active": True,
                "reputation": 0,
            }
            for i in range(1, REPS + 1)
        ]
        experts = [
            {
                "id": REPS + n,
                "username": f"expert{n}",
                "display_name": f"Expert {n}",
                "password_hash": password_hash,
                "roles": ["expert"],
                "active": True,
                "reputation": 0,
            }
            for n in range(1, TOPICS * EXPERTS_PER_TOPIC + 1)
        ]
        conn.execute(insert(User), people + experts)
        conn.execute(
            insert(user_expert_topics),
            [{"user_id": e["id"], "topic_id": (n % TOPICS) + 1} for n, e in enumerate(experts)],
        )
    batch = 20_000
    for start in range(1, questions + 1, batch):
        rows = []
        for qid in range(start, min(start + batch, questions + 1)):
            created = now - timedelta(minutes=questions - qid)
            rows.append(
                {
                    "id": qid,
                    "topic_id": (qid % TOPICS) + 1,
                    "author_id": rng.randint(1, REPS),
                    "title": sentence(rng, 8),
                    "body": sentence(rng, 40),
                    "status": "open",
                    "revision": 1,
                    "has_learning_need": False,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Question), rows)
    for start in range(1, answers + 1, batch):
        rows = []
        for aid in range(start, min(start + batch, answers + 1)):
            qid = (aid - 1) % questions + 1
            state = rng.choice(STATES)
            reviewed = state != "unreviewed"
            created = now - timedelta(minutes=answers - aid)
            rows.append(
                {
                    "id": aid,
                    "question_id": qid,
                    "topic_id": (qid % TOPICS) + 1,
                    "author_id": rng.randint(1, REPS),
                    "body": sentence(rng, 60),
                    "state": state,
                    "score": 0,
                    "revision": 1,
                    "open_flags": 0,
                    "created_at": created,
                    "updated_at": created,
                    "reviewed_at": created if reviewed else None,
                    "validated_at": created if state in ("endorsed", "corrected") else None,
                    "correction": "Corrected." if state == "corrected" else None,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(Answer), rows)
    with engine.begin() as conn:
        needs = [
            {
                "id": n,
                "kind": "thread",
                "topic_id": (n % TOPICS) + 1,
                "question_id": n * 7,
                "status": rng.choice(["open", "acknowledged", "addressed"]),
                "wrong_count": 2,
                "reviewed_count": 3,
                "opened_at": now,
                "updated_at": now,
            }
            for n in range(1, 3_001)
        ]
        conn.execute(insert(LearningNeed), needs)
        conn.execute(
            insert(LearningNeedEvent),
            [
                {
                    "learning_need_id": n["id"],
                    "status": "open",
                    "note": "",
                    "wrong_count": 2,
                    "reviewed_count": 3,
                    "at": now,
                }
                for n in needs
            ],
        )
        conn.execute(
            Question.__table__.update()
            .where(Question.id.in_([n["question_id"] for n in needs]))
            .values(has_learning_need=True)
        )
        # Keep the id sequences past the explicitly numbered rows.
        for table in ("topics", "users", "questions", "answers", "learning_needs"):
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def unreviewed_answers(url: str, topic_id: int, expert_id: int, count: int) -> list[int]:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        ids = (
            conn.execute(
                select(Answer.id)
                .where(
                    Answer.topic_id == topic_id,
                    Answer.state == "unreviewed",
                    Answer.author_id != expert_id,
                )
                .order_by(Answer.id.desc())
                .limit(count)
            )
            .scalars()
            .all()
        )
    engine.dispose()
    return list(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(7)
    with postgres() as url:
        upgrade(url)
        started = time.perf_counter()
        load(url, args.answers, rng)
        print(
            f"loaded {args.answers:,} answers, {args.answers // 3:,} questions, 3,000 signals "
            f"in {time.perf_counter() - started:.0f} s"
        )
        with (
            api_server(url, VOUCH_SEARCH_WORKER_IN_PROCESS="false") as base,
            httpx.Client(base_url=base, timeout=30) as http,
        ):
            token = http.post("/auth/token", json={"username": "expert1", "password": PASSWORD})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            http.headers.update(headers)
            for _ in range(20):  # warm up connections and caches
                http.get("/learning-needs")
            print(
                summary(
                    "GET /learning-needs",
                    timed(lambda: http.get("/learning-needs").raise_for_status(), args.requests),
                )
            )
            print(
                summary(
                    "GET /learning-needs?status=open&topic=topic-2",
                    timed(
                        lambda: http.get(
                            "/learning-needs", params={"status": "open", "topic": "topic-2"}
                        ).raise_for_status(),
                        args.requests,
                    ),
                )
            )
            # expert1 is an expert of topic 2 (experts are spread over topics in order).
            me = http.get("/me").json()
            topic_id = int(me["expert_topics"][0].split("-")[1])
            targets = iter(unreviewed_answers(url, topic_id, me["id"], args.requests))
            verdicts = iter(
                rng.choice(
                    [
                        {"verdict": "endorse"},
                        {"verdict": "reject", "rationale": "Not so."},
                        {"verdict": "correct", "rationale": "Almost.", "correction": "Exactly."},
                    ]
                )
                for _ in range(args.requests)
            )

            def review() -> None:
                response = http.post(f"/answers/{next(targets)}/reviews", json=next(verdicts))
                if response.status_code != 201:
                    raise RuntimeError(response.text)

            print(summary("POST /answers/{id}/reviews", timed(review, args.requests)))
    print(
        "command: .venv/bin/python -m bench.validation_bench "
        f"--answers {args.answers} --requests {args.requests}"
    )


if __name__ == "__main__":
    main()
