"""The write path: the four writes at concurrency 16, what one of them sends to the
database, and where its time goes.

    .venv/bin/python -m bench.write_bench [--threads 1500] [--seconds 10] [--web-workers 2]
        [--no-durable] [--statements] [--profile SECONDS]

A private PostgreSQL at its default durability (fsync and synchronous commit on; the
other benchmarks turn them off; `--no-durable` here too), `--threads` threads of three
answers from the search benchmark's loader, a reviewer who is an expert of every topic
and a voter. Then:

- `--statements`: in this process, through the app (`create_app` under a test client,
  so no HTTP), each write once after a warm-up, printing every SQL statement it sends
  (the round trips) and the transaction's boundaries.
- the writes: `vouch serve --workers N` (the search and notification workers stopped),
  each of `POST /questions`, `POST /questions/{id}/answers`, `POST /answers/{id}/reviews`
  and `POST /answers/{id}/votes` for `--seconds` at concurrency 16 on random targets,
  printing requests/s, median and p95; and the fixed cost of a request: `GET /me` (the
  token check, the session) beside `GET /healthz` (no token, no database), at
  concurrency 1.
- `--profile SECONDS`: the same write load for that long while py-spy samples one API
  process; prints the frames with the most samples (own time and with their callees).
- after the load: every 201 counted against the rows, audit events and outbox rows it
  must have written, and the audit chain verified.

Target (the write-path issue): >= 300 requests/s and p95 <= 100 ms for each write.
"""

import argparse
import logging
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.auth.passwords import configure
from app.config import Settings
from app.db import Database, session_scope
from app.main import create_app
from app.migrate import upgrade
from app.users.schemas import UserCreate
from app.users.service import create_user
from bench.common import api_server, postgres
from bench.search_bench import PASSWORD, SETUP, TOPICS, http_client, load, p95

CONCURRENCY = 16
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Write:
    """One kind of write: how to send it to a target, and what it answers."""

    name: str
    who: str  # the user sending it
    send: Callable[[httpx.Client, str, dict[str, str], int], httpx.Response]
    ok: int


def _question(client: httpx.Client, api: str, headers: dict[str, str], n: int) -> httpx.Response:
    body = {
        "title": f"How is a claim number {n} handled when the policy lapsed?",
        "body": "The customer paid late and the policy lapsed a week before the loss.",
        "topic": TOPICS[n % len(TOPICS)],
    }
    return client.post(f"{api}/questions", json=body, headers=headers)


def _answer(client: httpx.Client, api: str, headers: dict[str, str], n: int) -> httpx.Response:
    body = {"body": f"Another answer for thread {n}, written by the benchmark."}
    return client.post(f"{api}/questions/{n}/answers", json=body, headers=headers)


def _review(client: httpx.Client, api: str, headers: dict[str, str], n: int) -> httpx.Response:
    body = {"verdict": "endorse", "rationale": "Matches the handbook."}
    return client.post(f"{api}/answers/{n}/reviews", json=body, headers=headers)


def _vote(client: httpx.Client, api: str, headers: dict[str, str], n: int) -> httpx.Response:
    return client.post(f"{api}/answers/{n}/votes", json={"value": 1 - 2 * (n % 2)}, headers=headers)


WRITES = [
    Write("POST /questions", "bench", _question, 201),
    Write("POST /questions/{id}/answers", "bench", _answer, 201),
    Write("POST /answers/{id}/reviews", "reviewer", _review, 201),
    Write("POST /answers/{id}/votes", "voter", _vote, 200),
]


@dataclass
class Result:
    name: str
    latencies: list[float]
    errors: Counter[int]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def drive(
    api: str, token: str, write: Write, targets: list[int], seconds: float, concurrency: int
) -> Result:
    """`concurrency` clients, each on its own kept-alive connection, for `seconds`."""
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    errors: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client_loop(offset: int) -> None:
        mine: list[float] = []
        failed: Counter[int] = Counter()
        with http_client() as client:
            n = offset
            while time.monotonic() < deadline:
                began = time.perf_counter()
                response = write.send(client, api, headers, targets[n % len(targets)])
                elapsed = (time.perf_counter() - began) * 1000
                n += concurrency
                if response.status_code == write.ok:
                    mine.append(elapsed)
                else:
                    failed[response.status_code] += 1
        with lock:
            latencies.extend(mine)
            errors.update(failed)

    start = time.monotonic()
    pool = [threading.Thread(target=client_loop, args=(i,)) for i in range(concurrency)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Result(write.name, latencies, errors, time.monotonic() - start)


class Waits:
    """Samples what PostgreSQL's sessions of the API are doing, every few ms, while a
    write runs: on the CPU, waiting for a lock (the audit head's row), for the disk, or
    for the API's next statement (idle in transaction: the API's own time while its
    transaction, and any lock it took, stays open)."""

    def __init__(self, url: str) -> None:
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.seen: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        query = (
            "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' AND state <> 'idle'"
        )
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                for state, kind, name in conn.execute(query):
                    if state == "idle in transaction":
                        self.seen["idle in transaction (the API's time)"] += 1
                    elif kind is None:
                        self.seen["running"] += 1
                    else:
                        self.seen[f"{kind}:{name}"] += 1
                time.sleep(0.005)

    def __enter__(self) -> "Waits":
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def line(self) -> str:
        total = sum(self.seen.values()) or 1
        return ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in self.seen.most_common(6))


def seed(db: Database, threads: int) -> int:
    """Threads of three answers, by `bench`; the reviewer and the voter. Returns the
    number of answers."""
    load(db, threads, 3)
    with session_scope(db) as session:
        for username, roles, topics in (
            ("reviewer", ["expert"], TOPICS),
            ("voter", ["rep"], []),
        ):
            create_user(
                session,
                SETUP,
                UserCreate(
                    username=username,
                    display_name=username.title(),
                    password=PASSWORD,
                    roles=roles,
                    expert_topics=topics,
                ),
            )
        return int(session.execute(text("SELECT count(*) FROM answers")).scalar_one())


def counts(db: Database) -> dict[str, int]:
    tables = ("questions", "answers", "reviews", "votes", "audit_events", "search_outbox")
    with db.session(write=False) as session:
        return {
            t: int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables
        }


def audit_actions(db: Database) -> Counter[str]:
    with db.session(write=False) as session:
        rows = session.execute(select(AuditEvent.action, func.count()).group_by(AuditEvent.action))
        return Counter({action: int(n) for action, n in rows})


# -- statements of one request ------------------------------------------------------------


def show_statements(url: str, thread_count: int, answer_count: int) -> None:
    """Each write once, in this process: the statements it sends, one per line."""
    settings = Settings(
        database_url=url,
        search_worker_in_process=False,
        notification_worker_in_process=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    db = Database(url)
    sent: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(" ".join(statement.split())[:150])

    @event.listens_for(db.engine, "begin")
    def _begin(conn: Any) -> None:
        sent.append("BEGIN")

    @event.listens_for(db.engine, "commit")
    def _commit(conn: Any) -> None:
        sent.append("COMMIT")

    @event.listens_for(db.engine, "rollback")
    def _rollback(conn: Any) -> None:
        sent.append("ROLLBACK")

    with TestClient(create_app(settings, db), base_url="http://bench/api/v1") as client:
        tokens = {
            who: client.post("/auth/token", json={"username": who, "password": PASSWORD}).json()[
                "access_token"
            ]
            for who in ("bench", "reviewer", "voter")
        }
        rng = random.Random(1)
        kinds: list[tuple[str, Callable[[int], httpx.Response]]] = []
        for write in WRITES:
            headers = {"Authorization": f"Bearer {tokens[write.who]}"}
            top = answer_count if "/answers/{id}" in write.name else thread_count

            def call(n: int, write: Write = write, headers: dict[str, str] = headers) -> Any:
                return write.send(client, "", headers, n)  # type: ignore[arg-type]

            kinds.append((write.name, lambda _n, call=call, top=top: call(rng.randint(1, top))))
        me = {"Authorization": f"Bearer {tokens['bench']}"}
        kinds.append(("GET /me", lambda _n: client.get("/me", headers=me)))
        for name, call in kinds:
            for n in range(3):
                call(n)  # warm: statement caches, the connection pool
            sent.clear()
            response = call(0)
            statements = [s for s in sent if s not in ("BEGIN", "COMMIT", "ROLLBACK")]
            print(f"\n{name} -> {response.status_code}: {len(statements)} statements")
            for line in sent:
                print(f"    {line}")
    db.dispose()


# -- profile ------------------------------------------------------------------------------


def sample(pid: int, seconds: float, out: Path) -> None:
    """py-spy's raw (collapsed) stacks of process `pid` and its children (the API's
    worker processes) for `seconds`."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    subprocess.run(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--rate",
            "200",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            "--subprocesses",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


IDLE = ("select (selectors", "wait (threading", "Condition.wait", "Event.wait", "_recv (multi")


def top_frames(collapsed: Path, limit: int = 25) -> None:
    """The frames with most samples: own time, and with their callees (each frame once
    per stack)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = idle = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        if any(word in frames[-1] for word in IDLE):
            idle += n  # a thread waiting for work, not spending the CPU
            continue
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    print(f"\nprofile: {samples} busy samples ({idle} idle ones left out)")
    print("own time:")
    for frame, n in own.most_common(limit):
        print(f"  {100 * n / samples:5.1f}%  {frame}")
    print("with callees (frames of the app, SQLAlchemy and psycopg):")
    shown = [
        (f, n)
        for f, n in total.most_common(400)
        if any(k in f for k in ("/app/", "sqlalchemy", "psycopg", "/search/"))
    ]
    for frame, n in shown[:limit]:
        print(f"  {100 * n / samples:5.1f}%  {frame}")


@contextmanager
def serving(url: str, workers: int) -> Iterator[tuple[str, int]]:
    """The API with both workers stopped; yields (base URL, server pid)."""
    env = {
        "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
        "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "false",
        "VOUCH_MEILI_URL": "http://127.0.0.1:9",  # no search: nothing reads it in a write
    }
    with api_server(url, workers, **env) as base:
        out = subprocess.run(
            ["pgrep", "-f", f"vouch serve --port {base.rsplit(':', 1)[1].split('/')[0]}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        yield base, int(out[0]) if out else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=10.0, help="per write")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--no-durable", action="store_true", help="fsync and sync commit off")
    parser.add_argument("--statements", action="store_true", help="print one request's SQL")
    parser.add_argument("--profile", type=float, default=0, help="seconds of py-spy sampling")
    parser.add_argument("--skip-load", action="store_true", help="only --statements/--profile")
    args = parser.parse_args()

    print(f"command: python -m bench.write_bench {' '.join(sys.argv[1:])}".rstrip())
    print(f"machine: {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    durable = not args.no_durable
    configure(1, 64)
    with postgres(durable=durable) as url:
        upgrade(url)
        db = Database(url)
        with db.session(write=False) as session:
            fsync = session.execute(text("SHOW fsync")).scalar_one()
            sync = session.execute(text("SHOW synchronous_commit")).scalar_one()
        print(f"PostgreSQL: fsync={fsync}, synchronous_commit={sync}")
        answers = seed(db, args.threads)
        print(f"seeded {args.threads} threads, {answers} answers")
        if args.statements:
            show_statements(url, args.threads, answers)
        rng = random.Random(7)
        targets = {
            w.name: [
                rng.randint(1, answers if "/answers/{id}" in w.name else args.threads)
                for _ in range(20_000)
            ]
            for w in WRITES
        }
        before, actions_before = counts(db), audit_actions(db)
        results: list[Result] = []
        fixed: dict[str, list[float]] = {}
        waited: dict[str, str] = {}
        with serving(url, args.web_workers) as (api, pid):
            tokens = {
                who: httpx.post(
                    f"{api}/auth/token", json={"username": who, "password": PASSWORD}
                ).json()["access_token"]
                for who in ("bench", "reviewer", "voter")
            }
            if args.profile:
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / "stacks.txt"
                    spy = threading.Thread(target=sample, args=(pid, args.profile, out))
                    spy.start()
                    per = args.profile / len(WRITES)
                    for write in WRITES:
                        drive(api, tokens[write.who], write, targets[write.name], per, CONCURRENCY)
                    spy.join()
                    print(f"(profiled the API's processes, server pid {pid})")
                    top_frames(out)
                before, actions_before = counts(db), audit_actions(db)
            if not args.skip_load:
                for write in WRITES:
                    with Waits(url) as waits:
                        results.append(
                            drive(
                                api,
                                tokens[write.who],
                                write,
                                targets[write.name],
                                args.seconds,
                                CONCURRENCY,
                            )
                        )
                    waited[write.name] = waits.line()
                me = {"Authorization": f"Bearer {tokens['bench']}"}
                with http_client() as client:
                    for path, headers in (("/healthz", {}), ("/me", me)):
                        for _ in range(50):
                            client.get(f"{api}{path}", headers=headers)
                        fixed[path] = []
                        for _ in range(500):
                            began = time.perf_counter()
                            client.get(f"{api}{path}", headers=headers)
                            fixed[path].append((time.perf_counter() - began) * 1000)
        after, actions_after = counts(db), audit_actions(db)
        with db.session(write=False) as session:
            report = verify_chain(session)
        db.dispose()

    if results:
        print(
            f"\nwrites at concurrency {CONCURRENCY}, {args.web_workers} API processes, "
            f"search and notification workers stopped, PostgreSQL fsync={fsync}:"
        )
        print("| write | requests/s | median ms | p95 ms | errors |")
        print("| --- | --- | --- | --- | --- |")
        for r in results:
            errors = ", ".join(f"{n}x{code}" for code, n in r.errors.items()) or "0"
            print(
                f"| {r.name} | {r.rate:.1f} | {statistics.median(r.latencies):.1f} | "
                f"{p95(r.latencies):.1f} | {errors} |"
            )
        print("\nwhat the database's sessions were doing (sampled every 5 ms, busy ones):")
        for name, line in waited.items():
            print(f"  {name}: {line}")
        made = {r.name: len(r.latencies) for r in results}
        grown = {t: after[t] - before[t] for t in after}
        events = {a: actions_after[a] - actions_before[a] for a in actions_after}
        print(
            f"\n201s and 200s against the database: questions {made['POST /questions']} -> "
            f"+{grown['questions']} rows, {events.get('question.create', 0)} question.create; "
            f"answers {made['POST /questions/{id}/answers']} -> +{grown['answers']} rows, "
            f"{events.get('answer.create', 0)} answer.create; reviews "
            f"{made['POST /answers/{id}/reviews']} -> +{grown['reviews']} rows, "
            f"{events.get('review.create', 0)} review.create; votes "
            f"{made['POST /answers/{id}/votes']} -> {events.get('vote.cast', 0)} vote.cast; "
            f"search outbox +{grown['search_outbox']}; audit events +{grown['audit_events']}"
        )
        h, m = fixed["/healthz"], fixed["/me"]
        print(
            f"fixed cost, concurrency 1: GET /healthz median {statistics.median(h):.2f} ms, "
            f"GET /me median {statistics.median(m):.2f} ms "
            f"({statistics.median(m) / statistics.median(h):.2f}x)"
        )
    print(
        f"audit chain: {'verifies' if report.ok else 'BROKEN'}, "
        f"{report.events_checked} events checked, head {report.head_seq}"
    )
    print("target: each write >= 300 requests/s, p95 <= 100 ms")


if __name__ == "__main__":
    main()
