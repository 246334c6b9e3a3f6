"""Search benchmark: the API's GET /search against the same query sent straight to Meilisearch.

    .venv/bin/python -m bench.search_bench                 # 100,000 threads, 300,000 answers
    .venv/bin/python -m bench.search_bench --threads 5000  # a quick run

Builds a private PostgreSQL and a private Meilisearch, loads generated threads (text from
a bigram model of the Stack Exchange dumps in ../shared/data/stackexchange; synthetic
words when they are absent), indexes them with `vouch reindex`'s code, starts the API
(`vouch serve --workers 2`, as the production image runs it) and measures, side by side
in alternating phases:

- search at concurrency 1 and 16 over HTTP: the API (`GET /api/v1/search`, with its
  bearer-token check) against the identical Meilisearch request (`POST
  /indexes/threads/search` with the body the API builds): median, p95, throughput, ratios;
- freshness: with `vouch worker` running, the time from posting an answer (HTTP 201:
  committed) until a query for a word only that answer contains finds it, against the
  same change sent straight to Meilisearch; median, p95;
- writes: POST /questions/{id}/answers at concurrency 16 while the worker drains the
  outbox, then with the worker stopped (each request commits the answer, its audit
  event and its outbox row): requests/s, median, p95.
"""

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TypeVar

import httpx
from sqlalchemy import insert, text

from app.answers.models import Answer
from app.audit.service import Actor, AuditContext
from app.config import Settings
from app.db import Database, session_scope
from app.migrate import upgrade
from app.questions.models import Question, QuestionTag
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.schemas import UserCreate
from app.users.service import create_user
from bench.common import ROOT, api_server, postgres
from bench.search_data import sample_queries, text_models, threads
from search.client import make_client
from search.local_server import LocalMeilisearch
from search.query import ThreadQuery, search_params
from search.reindex import reindex

SETUP = AuditContext(actor=Actor(None, "bench", ("system",)))
PASSWORD = "answers-checked-by-experts"  # the password policy: >= 12, no username in it
TOPICS = [f"topic-{n}" for n in range(8)]
TAGS = [f"tag-{n}" for n in range(40)]
STATES = ["unreviewed"] * 14 + ["endorsed"] * 4 + ["corrected", "rejected"]
INSERT_CHUNK = 5000
WRITE_CONCURRENCY = 16

T = TypeVar("T")


@dataclass
class Phase:
    side: str
    concurrency: int
    latencies: list[float]
    errors: int
    seconds: float

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


# -- data -----------------------------------------------------------------------------


def load(db: Database, count: int, answers_per_thread: int, authors: int = 1) -> int:
    """Users, topics, then `count` threads in bulk, asked by the bench user and answered
    in turn by it and `authors - 1` reps; returns the bench user's id."""
    with session_scope(db) as session:
        for slug in TOPICS:
            create_topic(session, SETUP, TopicCreate(slug=slug, name=slug.title()))
        user = create_user(
            session,
            SETUP,
            UserCreate(
                username="bench",
                display_name="Bench",
                password=PASSWORD,
                roles=["rep", "expert"],
                expert_topics=TOPICS[:1],
            ),
        )
        user_id = user.id
        author_ids = [user_id] + [
            create_user(
                session,
                SETUP,
                UserCreate(
                    username=f"author-{n}",
                    display_name=f"Author {n}",
                    password=PASSWORD,
                    roles=["rep"],
                ),
            ).id
            for n in range(2, authors + 1)
        ]
    rng = random.Random(3)
    start = datetime.now(UTC) - timedelta(days=365)
    questions: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    answers: list[dict[str, Any]] = []
    question_id = answer_id = 0
    began = time.monotonic()

    def flush() -> None:
        with session_scope(db) as session:
            if questions:
                session.execute(insert(Question), questions)
            if tags:
                session.execute(insert(QuestionTag), tags)
            if answers:
                session.execute(insert(Answer), answers)
        questions.clear()
        tags.clear()
        answers.clear()

    for title, body, bodies in threads(count, answers_per_thread):
        question_id += 1
        created = start + timedelta(seconds=question_id * 300)
        topic_id = rng.randrange(len(TOPICS)) + 1
        questions.append(
            {
                "id": question_id,
                "topic_id": topic_id,
                "author_id": user_id,
                "title": title,
                "body": body,
                "status": "open",
                "revision": 1,
                "has_learning_need": False,
                "created_at": created,
                "updated_at": created,
            }
        )
        for position, tag in enumerate(rng.sample(TAGS, rng.randint(0, 3))):
            tags.append({"question_id": question_id, "tag": tag, "position": position})
        for answer_body in bodies:
            answer_id += 1
            state = rng.choice(STATES)
            answers.append(
                {
                    "id": answer_id,
                    "question_id": question_id,
                    "topic_id": topic_id,
                    "author_id": author_ids[answer_id % len(author_ids)],
                    "body": answer_body,
                    "state": state,
                    "correction": answer_body[::-1][:200] if state == "corrected" else None,
                    "score": rng.randint(-1, 5),
                    "revision": 1,
                    "open_flags": 0,
                    "created_at": created,
                    "updated_at": created,
                }
            )
        if len(questions) >= INSERT_CHUNK:
            flush()
            if question_id % (INSERT_CHUNK * 4) == 0:
                print(f"  loaded {question_id} of {count} threads", flush=True)
    flush()
    if db.engine.dialect.name == "postgresql":
        with session_scope(db) as session:
            for table in ("questions", "answers"):
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    print(f"  loaded {question_id} threads, {answer_id} answers in {time.monotonic() - began:.0f}s")
    return user_id


# -- load generation ------------------------------------------------------------------


def run_phase(
    side: str,
    send: Callable[[httpx.Client, T], httpx.Response],
    queries: list[T],
    concurrency: int,
    seconds: float,
    ok: int = 200,
) -> Phase:
    """`concurrency` threads, each with its own keep-alive connection, for `seconds`;
    latencies of the responses with status `ok`, the others counted as errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    start = time.monotonic()

    def worker(offset: int) -> None:
        mine: list[float] = []
        failed = 0
        with http_client() as client:
            n = offset
            while time.monotonic() < deadline:
                query = queries[n % len(queries)]
                n += concurrency
                began = time.perf_counter()
                response = send(client, query)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code == ok:
                    mine.append(elapsed)
                else:
                    failed += 1
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Phase(side, concurrency, latencies, errors[0], time.monotonic() - start)


def http_client() -> httpx.Client:
    """Keep-alive, and TCP_NODELAY: without it a POST's body waits for the ACK of its
    headers, and Linux's delayed ACK adds ~40 ms to every direct Meilisearch query."""
    nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
    return httpx.Client(timeout=30, transport=httpx.HTTPTransport(socket_options=nodelay))


def api_params(query: ThreadQuery) -> dict[str, Any]:
    params: dict[str, Any] = {"q": query.q, "limit": query.limit}
    if query.topic:
        params["topic"] = query.topic
    if query.validated is not None:
        params["validated"] = str(query.validated).lower()
    return params


def bench_search(
    api: str,
    token: str,
    meili_url: str,
    key: str,
    queries: list[ThreadQuery],
    seconds: float,
    rounds: int,
) -> list[tuple[int, dict[str, Phase]]]:
    api_headers = {"Authorization": f"Bearer {token}"}
    meili_headers = {"Authorization": f"Bearer {key}"}

    def via_api(client: httpx.Client, query: ThreadQuery) -> httpx.Response:
        return client.get(f"{api}/search", params=api_params(query), headers=api_headers)

    fresh_headers = {**meili_headers, "Connection": "close"}

    def direct(client: httpx.Client, query: ThreadQuery) -> httpx.Response:
        # A fresh connection per query, as the API does: on a kept-alive connection
        # Meilisearch's answers wait ~40 ms for a delayed ACK (see search/client.py).
        body = {"q": query.q, **search_params(query)}
        return client.post(f"{meili_url}/indexes/threads/search", json=body, headers=fresh_headers)

    def direct_keepalive(client: httpx.Client, query: ThreadQuery) -> httpx.Response:
        body = {"q": query.q, **search_params(query)}
        return client.post(f"{meili_url}/indexes/threads/search", json=body, headers=meili_headers)

    sides = {"direct": direct, "direct keep-alive": direct_keepalive, "api": via_api}
    for name, send in sides.items():  # warm caches and connections before measuring
        run_phase(name, send, queries, 4, 2)
    results = []
    for concurrency in (1, 16):
        phases: dict[str, list[Phase]] = {name: [] for name in sides}
        for _ in range(rounds):  # alternate, so every side sees the same machine state
            for name, send in sides.items():
                phases[name].append(run_phase(name, send, queries, concurrency, seconds))
        results.append((concurrency, {name: merge(p) for name, p in phases.items()}))
    return results


def merge(phases: list[Phase]) -> Phase:
    return Phase(
        phases[0].side,
        phases[0].concurrency,
        [x for p in phases for x in p.latencies],
        sum(p.errors for p in phases),
        sum(p.seconds for p in phases),
    )


def bench_freshness(
    api: str, token: str, meili_url: str, key: str, thread_count: int, samples: int
) -> dict[str, list[float]]:
    """Milliseconds until a new answer is searchable, two ways, alternating:

    - `api`: from sending POST /questions/{id}/answers (committed when its 201 arrives:
      answer, audit event and outbox row) until a search for a word only that answer
      contains finds it; the worker does the rest.
    - `direct`: the engine's own floor: from sending the same kind of change straight to
      Meilisearch (the thread's document with one more answer) until it is found.
    """
    rng = random.Random(9)
    headers = {"Authorization": f"Bearer {token}"}
    meili_headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
    index_url = f"{meili_url}/indexes/threads"
    delays: dict[str, list[float]] = {"api": [], "direct": []}
    warmup = 3  # the worker's first batch also loads its code and checks the index
    with http_client() as client:

        def found(word: str, began: float) -> float:
            while True:
                hits = client.post(
                    f"{index_url}/search",
                    json={"q": f'"{word}"', "limit": 1, "attributesToRetrieve": ["id"]},
                    headers=meili_headers,
                ).json()["hits"]
                if hits:
                    return (time.perf_counter() - began) * 1000
                if time.perf_counter() - began > 30:
                    raise RuntimeError(f"{word} not searchable after 30 s")
                time.sleep(0.01)

        for n in range(samples + warmup):
            for side in ("api", "direct"):
                word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(14))
                question_id = rng.randint(1, thread_count)
                if side == "direct":
                    document = client.get(
                        f"{index_url}/documents/{question_id}", headers=meili_headers
                    ).json()
                    document["answers"] = [*document["answers"], f"Fresh answer {word}."]
                began = time.perf_counter()
                if side == "api":
                    response = client.post(
                        f"{api}/questions/{question_id}/answers",
                        json={"body": f"Fresh answer {n} mentioning {word}."},
                        headers=headers,
                    )
                else:
                    response = client.post(
                        f"{index_url}/documents", json=[document], headers=meili_headers
                    )
                assert response.status_code in (201, 202), response.text
                elapsed = found(word, began)
                if n >= warmup:
                    delays[side].append(elapsed)
                time.sleep(rng.uniform(0.05, 0.25))  # writes arrive now and then
    return delays


def bench_writes(api: str, token: str, thread_count: int, seconds: float) -> Phase:
    """POST /questions/{id}/answers at concurrency 16 on random threads: each request
    commits the answer, its audit event and its outbox row, while the worker drains."""
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(13)
    targets = [rng.randint(1, thread_count) for _ in range(10_000)]

    def post(client: httpx.Client, question_id: int) -> httpx.Response:
        body = {"body": f"Another answer for thread {question_id}, written by the benchmark."}
        return client.post(f"{api}/questions/{question_id}/answers", json=body, headers=headers)

    return run_phase("write", post, targets, WRITE_CONCURRENCY, seconds, ok=201)


# -- main -----------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--answers-per-thread", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured phase")
    parser.add_argument("--rounds", type=int, default=2, help="alternating phases per side")
    parser.add_argument("--freshness-samples", type=int, default=100)
    parser.add_argument(
        "--web-workers", type=int, default=2, help="API processes (the image's default: 2)"
    )
    args = parser.parse_args()

    print(f"command: python -m bench.search_bench {' '.join(sys.argv[1:])}")
    print(f"machine: {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    title_model, _body_model, source = text_models()
    print(f"text: {source}")
    with (
        TemporaryDirectory(prefix="vouch-search-bench-") as tmp,
        postgres() as url,
        LocalMeilisearch(Path(tmp) / "meili") as meili,
    ):
        upgrade(url)
        db = Database(url)
        print(f"loading {args.threads} threads x {args.answers_per_thread} answers into PostgreSQL")
        load(db, args.threads, args.answers_per_thread)
        settings = Settings(
            database_url=url,
            meili_url=meili.url,
            meili_key=meili.master_key,
            _env_file=None,
        )
        began = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 10 or done == total:
                last[0] = time.monotonic()
                print(f"  indexed {done} of {total} threads ({time.monotonic() - began:.0f}s)")

        reindex(db, settings, make_client(settings, timeout=60), progress, batch_size=2000)
        print(f"indexed in {time.monotonic() - began:.0f}s")
        rng = random.Random(5)
        words = sample_queries(title_model, 300, rng)
        queries = [
            ThreadQuery(
                q=w,
                topic=rng.choice(TOPICS) if i % 4 == 1 else None,
                validated=True if i % 4 == 2 else None,
            )
            for i, w in enumerate(words)
        ]
        env = {
            "VOUCH_MEILI_URL": meili.url,
            "VOUCH_MEILI_KEY": meili.master_key,
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
        }
        with api_server(url, args.web_workers, **env) as api:
            token = httpx.post(
                f"{api}/auth/token", json={"username": "bench", "password": PASSWORD}
            ).json()["access_token"]
            print(
                f"search: {len(queries)} queries (1/4 with a topic filter, 1/4 validated=true), "
                f"{args.rounds} x {args.seconds:.0f}s per side and concurrency, alternating"
            )
            results = bench_search(
                api, token, meili.url, meili.master_key, queries, args.seconds, args.rounds
            )
            worker = subprocess.Popen(
                [str(Path(sys.executable).parent / "vouch"), "worker"],
                cwd=ROOT,
                env={**os.environ, "VOUCH_DATABASE_URL": url, "VOUCH_LOG_LEVEL": "WARNING", **env},
                stderr=subprocess.DEVNULL,
            )
            try:
                delays = bench_freshness(
                    api, token, meili.url, meili.master_key, args.threads, args.freshness_samples
                )
                writes = {"worker draining": bench_writes(api, token, args.threads, args.seconds)}
            finally:
                worker.terminate()
                worker.wait(timeout=15)
            writes["worker stopped"] = bench_writes(api, token, args.threads, args.seconds)
        db.dispose()

    print()
    print("| concurrency | side | median ms | p95 ms | queries/s | errors |")
    print("| --- | --- | --- | --- | --- | --- |")
    for concurrency, phases in results:
        for phase in phases.values():
            print(
                f"| {concurrency} | {phase.side} | {statistics.median(phase.latencies):.1f} | "
                f"{p95(phase.latencies):.1f} | {phase.throughput:.1f} | {phase.errors} |"
            )
    print()
    for concurrency, phases in results:
        direct, api_phase = phases["direct"], phases["api"]
        ratio = statistics.median(api_phase.latencies) / statistics.median(direct.latencies)
        share = api_phase.throughput / direct.throughput
        limit = 1.3 if concurrency == 1 else 1.5
        print(
            f"concurrency {concurrency}: API median / direct median = {ratio:.2f} "
            f"(target <= {limit}); API throughput / direct = {share:.0%} (target >= 70%)"
        )
    for side, label in (
        ("api", "answer posted to the API"),
        ("direct", "document sent to Meilisearch"),
    ):
        samples = delays[side]
        print(
            f"freshness, {label}, until searchable ({len(samples)} samples): "
            f"median {statistics.median(samples):.0f} ms, p95 {p95(samples):.0f} ms, "
            f"max {max(samples):.0f} ms"
        )
    print("target: API freshness p95 <= 1000 ms")
    for label, phase in writes.items():
        print(
            f"writes (POST answer, concurrency {WRITE_CONCURRENCY}, {label}): "
            f"{phase.throughput:.0f} requests/s, median {statistics.median(phase.latencies):.1f} "
            f"ms, p95 {p95(phase.latencies):.1f} ms, {phase.errors} errors"
        )
    print("target: writes >= 300 requests/s, p95 <= 100 ms")


if __name__ == "__main__":
    main()
