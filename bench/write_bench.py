"""The write path: the four writes at concurrency 16, the database's own limit for
them, what one of them sends to the database, and where its time goes.

    .venv/bin/python -m bench.write_bench [--threads 1500] [--seconds 10] [--web-workers 2]
        [--sqlite | --no-durable] [--draining] [--no-replay] [--only NAME]
        [--statements] [--profile SECONDS [--keep-profile FILE]] [--skip-load]

A private PostgreSQL at its default durability (fsync and synchronous commit on; the
other benchmarks turn them off; `--no-durable` here too), or with `--sqlite` a SQLite
file and 8 writers. `--threads` threads of three answers (the search benchmark's
loader), answered by 200 authors; sixteen reviewers (experts of every topic), a voter,
and the people pgbench's replays write as. Then:

- `--statements`: in this process, through the app (`create_app` under a test client,
  so no HTTP), each write once after a warm-up, printing every SQL statement it sends
  (the round trips) and the transaction's boundaries.
- the writes: `vouch serve --workers N`, the search and notification workers stopped
  (or with `--draining` running in its processes against a private Meilisearch, their
  backlog printed at the end), each of `POST /questions`, `POST /questions/{id}/answers`,
  `POST /answers/{id}/reviews` (each client a reviewer of its own) and
  `POST /answers/{id}/votes` for `--seconds` at concurrency 16 on random targets, from
  a lean load generator (one event loop). Prints requests/s, median and p95, what
  PostgreSQL's sessions waited for, and who spent the CPU per request (the API,
  PostgreSQL, the load generator); then the fixed cost of a request, `GET /me` (the
  token check, the session) beside `GET /healthz` (no token, no database), at
  concurrency 1.
- the database's limit (PostgreSQL, unless `--no-replay`): pgbench at concurrency 16
  replaying the very statements one request of each write sends, each transaction on a
  target of its own, against the same database; the API's rate as a fraction of it.
- `--profile SECONDS`: the same write load for that long while py-spy samples the API's
  processes (the thread holding the interpreter lock: where the CPU goes); prints the
  frames with the most samples (own time and with their callees).
- after the load: every 2xx counted against the rows, audit events and outbox rows it
  must have written, and the audit chain verified (after pgbench's replays too: they
  append to it as the API does).

The served writes run with the per-user write limit off (`bench/common.py`): each
client writes hundreds of times a minute as one person, which the limit exists to
refuse; `--statements` runs with it on, so its upsert is among the statements shown.

Target (the write-path issue): >= 300 requests/s and p95 <= 100 ms for each write.
"""

import argparse
import asyncio
import json
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
from sqlalchemy.engine import make_url

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.auth.passwords import configure
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.main import create_app
from app.migrate import upgrade
from app.notifications.models import NotificationOutboxEntry
from app.users.schemas import UserCreate
from app.users.service import create_user
from bench.common import api_server, postgres
from bench.search_bench import PASSWORD, SETUP, TOPICS, http_client, load, p95
from search.client import make_client
from search.local_server import LocalMeilisearch
from search.reindex import reindex
from search.relay import pending

CONCURRENCY = 16
AUTHORS = 200  # the answers' authors: a review moves its author's reputation
# Who sends each write: sixteen reviewers, one per client.
PEOPLE = {
    "bench": ["bench"],
    "reviewer": [f"reviewer-{n}" for n in range(1, CONCURRENCY + 1)],
    "voter": ["voter"],
}
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass
class Write:
    """One kind of write: the path and JSON body it sends to a target, and its answer."""

    name: str
    who: str  # the user sending it
    request: Callable[[int], tuple[str, dict[str, Any]]]
    ok: int


def _question(n: int) -> tuple[str, dict[str, Any]]:
    return "/questions", {
        "title": f"How is a claim number {n} handled when the policy lapsed?",
        "body": "The customer paid late and the policy lapsed a week before the loss.",
        "topic": TOPICS[n % len(TOPICS)],
    }


def _answer(n: int) -> tuple[str, dict[str, Any]]:
    return f"/questions/{n}/answers", {
        "body": f"Another answer for thread {n}, written by the benchmark."
    }


def _review(n: int) -> tuple[str, dict[str, Any]]:
    return f"/answers/{n}/reviews", {"verdict": "endorse", "rationale": "Matches the handbook."}


def _vote(n: int) -> tuple[str, dict[str, Any]]:
    return f"/answers/{n}/votes", {"value": 1 - 2 * (n % 2)}


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


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> int:
    """Send one HTTP/1.1 request on a kept-alive connection; read its whole response;
    return the status."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return status


def drive(
    api: str,
    tokens: list[str],
    write: Write,
    targets: list[int],
    seconds: float,
    concurrency: int,
) -> Result:
    """`concurrency` clients, each on its own kept-alive connection and with the next of
    `tokens` (as many people), for `seconds`.

    The load generator shares the machine's two cores with the API and PostgreSQL, so it
    is lean: one event loop, requests written as bytes, responses read by their length
    (a thread per client with httpx spent 3.5 ms of CPU per request, a quarter of what
    the API did)."""
    url = httpx.URL(api)
    prefix = url.path.rstrip("/")

    def request_bytes(n: int, token: str) -> bytes:
        path, body = write.request(n)
        payload = json.dumps(body).encode()
        return (
            f"POST {prefix}{path} HTTP/1.1\r\nHost: {url.host}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload

    latencies: list[float] = []
    errors: Counter[int] = Counter()

    async def client_loop(offset: int, deadline: float) -> None:
        reader, writer = await asyncio.open_connection(url.host, url.port)
        n = offset
        try:
            while time.monotonic() < deadline:
                request = request_bytes(targets[n % len(targets)], tokens[offset % len(tokens)])
                began = time.perf_counter()
                status = await _exchange(reader, writer, request)
                elapsed = (time.perf_counter() - began) * 1000
                n += concurrency
                if status == write.ok:
                    latencies.append(elapsed)
                else:
                    errors[status] += 1
        finally:
            writer.close()

    async def run() -> float:
        start = time.monotonic()
        await asyncio.gather(*(client_loop(i, start + seconds) for i in range(concurrency)))
        return time.monotonic() - start

    took = asyncio.run(run())
    return Result(write.name, latencies, errors, took)


class Cpu:
    """CPU time spent during a write, by whom: the API's processes (the server and its
    workers), PostgreSQL's, this load generator, and the rest of the machine; read from
    /proc, in milliseconds per request."""

    TICK = os.sysconf("SC_CLK_TCK")

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid

    @staticmethod
    def _processes() -> dict[int, tuple[int, str, float]]:
        seen: dict[int, tuple[int, str, float]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            seen[int(entry.name)] = (int(fields[1]), name, int(fields[11]) + int(fields[12]))
        return seen

    def _ticks(self) -> dict[int, tuple[str, float]]:
        """Each process's CPU ticks so far, under whom it counts."""
        processes = self._processes()
        api = {self.server_pid}
        grew = True
        while grew:  # the server's descendants
            more = {pid for pid, (ppid, _, _) in processes.items() if ppid in api} - api
            api |= more
            grew = bool(more)
        ticks: dict[int, tuple[str, float]] = {}
        for pid, (_, name, spent) in processes.items():
            if pid in api:
                ticks[pid] = ("API", spent)
            elif name == "postgres":
                ticks[pid] = ("PostgreSQL", spent)
            elif pid == os.getpid():
                ticks[pid] = ("load generator", spent)
            else:
                ticks[pid] = ("other", spent)
        return ticks

    def __enter__(self) -> "Cpu":
        self._start = self._ticks()
        self._began = time.monotonic()
        return self

    def __exit__(self, *_: object) -> None:
        # A process that ended meanwhile took its ticks with it: only those still here
        # count, from zero when they started meanwhile.
        self.spent: Counter[str] = Counter()
        for pid, (whom, ticks) in self._ticks().items():
            self.spent[whom] += int(ticks - self._start.get(pid, (whom, 0))[1])
        self.wall = time.monotonic() - self._began

    def line(self, requests: int) -> str:
        per = {k: 1000 * v / self.TICK / max(requests, 1) for k, v in self.spent.items()}
        busy = sum(self.spent.values()) / self.TICK / (self.wall * (os.cpu_count() or 1))
        whom = [k for k in ("API", "PostgreSQL", "load generator") if k in per]
        parts = ", ".join(f"{k} {per[k]:.2f}" for k in whom)
        return f"{parts} ms of CPU per request; machine {100 * busy:.0f}% busy"


class Waits:
    """Samples what PostgreSQL's sessions of the API are doing, every few ms, while a
    write runs: on the CPU, waiting for a lock (the audit head's row), for the disk, or
    for the API's next statement (idle in transaction: the API's own time while its
    transaction, and any lock it took, stays open)."""

    def __init__(self, url: str | None) -> None:
        """`url` None (SQLite): nothing to sample."""
        self.url = libpq_url(url) if url else ""
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
        if self.url:
            self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self.url:
            self._thread.join()

    def line(self) -> str:
        total = sum(self.seen.values()) or 1
        return ", ".join(f"{k} {100 * n / total:.0f}%" for k, n in self.seen.most_common(6))


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL of the run's PostgreSQL as libpq (psycopg, pgbench) takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sign_in_people(api: str) -> dict[str, list[str]]:
    """A bearer token for each of `PEOPLE`, by role, logged in through the API."""
    return {
        who: [
            httpx.post(f"{api}/auth/token", json={"username": name, "password": PASSWORD}).json()[
                "access_token"
            ]
            for name in names
        ]
        for who, names in PEOPLE.items()
    }


def seed(db: Database, threads: int) -> int:
    """Threads of three answers, asked by `bench` and answered by 200 authors; the
    reviewers, the voter and the people pgbench's replays write as. Returns the number
    of answers."""
    load(db, threads, 3, AUTHORS)
    with session_scope(db) as session:
        for username, roles, topics in (
            # Sixteen experts review at once (one reviewing alone waits on their own
            # reputation's row), one rep votes; pgbench's replays review and vote as the
            # `replayer-` ones, on targets of their own.
            *((f"reviewer-{n}", ["expert"], TOPICS) for n in range(1, CONCURRENCY + 1)),
            ("voter", ["rep"], []),
            *((f"replayer-reviewer-{n}", ["expert"], TOPICS) for n in range(1, CONCURRENCY + 1)),
            ("replayer-voter", ["rep"], []),
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


def _in_process(url: str, write_limit: bool = True) -> tuple[Settings, Database]:
    """The app's settings and database for running it in this process, workers off; the
    per-user write limit off too unless `write_limit` (as the served load has it)."""
    settings = Settings(
        database_url=url,
        search_worker_in_process=False,
        notification_worker_in_process=False,
        _env_file=None,
    )
    if not write_limit:
        settings = settings.model_copy(update={"write_rate_per_minute": 0})
    return settings, Database(url)


def _sign_in(client: TestClient, username: str) -> dict[str, str]:
    """The headers of `username` signed in to the in-process app."""
    token = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def show_statements(url: str, thread_count: int, answer_count: int) -> None:
    """Each write once, in this process: the statements it sends, one per line."""
    settings, db = _in_process(url)
    sent: list[str] = []

    def _record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(" ".join(statement.split())[:150])

    # The write engine, and the read sessions' (PostgreSQL's autocommit pool, where a
    # GET's statements go, and whose transaction boundaries reach no server).
    reader = db.read_sessions.kw["bind"]
    for engine in {db.engine, reader}:
        event.listen(engine, "before_cursor_execute", _record)
        note = " (autocommit: not sent)" if engine is reader and db.reads_autocommit else ""
        for boundary in ("begin", "commit", "rollback"):
            mark = f"{boundary.upper()}{note}"
            event.listen(engine, boundary, lambda _c, mark=mark: sent.append(mark))

    with TestClient(create_app(settings, db), base_url="http://bench/api/v1") as client:
        signed_in = {who: _sign_in(client, names[0]) for who, names in PEOPLE.items()}
        rng = random.Random(1)
        kinds: list[tuple[str, Callable[[int], httpx.Response]]] = []
        for write in WRITES:
            headers = signed_in[write.who]
            top = answer_count if "/answers/{id}" in write.name else thread_count

            def call(n: int, write: Write = write, headers: dict[str, str] = headers) -> Any:
                path, body = write.request(n)
                return client.post(path, json=body, headers=headers)

            def random_call(_n: int, call: Callable[[int], Any] = call, top: int = top) -> Any:
                return call(rng.randint(1, top))

            kinds.append((write.name, random_call))
        me = signed_in["bench"]
        kinds.append(("GET /me", lambda _n: client.get("/me", headers=me)))
        for name, kind in kinds:
            for n in range(3):
                kind(n)  # warm: statement caches, the connection pool
            sent.clear()
            response = kind(0)
            statements = [s for s in sent if s.split()[0] not in ("BEGIN", "COMMIT", "ROLLBACK")]
            print(f"\n{name} -> {response.status_code}: {len(statements)} statements")
            for line in sent:
                print(f"    {line}")
    db.dispose()


# -- the database's limit: pgbench replaying one request's statements ---------------------

REPLAY_CLIENTS_EACH = 250  # transactions per pgbench client: 16 x 250 distinct targets


@dataclass
class Captured:
    """One statement a request sent: its SQL and parameters as the driver got them, and
    the `id` it returned, if it inserted one row."""

    statement: str
    parameters: dict[str, Any]
    returned_id: int | None = None


def capture(url: str, write: Write, who: str, target: int) -> list[Captured]:
    """The statements one `write` to `target` sends through the app, as `who`, in this
    process, after the same write on the six targets below it. The write limit is off,
    as in the served load (whose writes already count against these people)."""
    settings, db = _in_process(url, write_limit=False)
    sent: list[Captured] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: str, parameters: Any, *args: Any) -> None:
        many = parameters if isinstance(parameters, list | tuple) else [parameters or {}]
        sent.extend(Captured(statement, dict(each)) for each in many)  # executemany: each

    @event.listens_for(db.engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, *args: Any) -> None:
        names = [c.name for c in cursor.description or []]
        inserted = sent[-1].statement.lstrip().upper().startswith("INSERT")
        if inserted and "id" in names and cursor.rowcount == 1:
            sent[-1].returned_id = int(cursor.fetchone()[names.index("id")])
            cursor.scroll(0, mode="absolute")  # the app reads the row as if untouched

    with TestClient(create_app(settings, db), base_url="http://bench/api/v1") as client:
        headers = _sign_in(client, who)
        for before in range(1, 7):  # the same thread's and others': a reviewer's first
            path, body = write.request(target - before)  # review in a topic is not typical
            client.post(path, json=body, headers=headers)
        sent.clear()
        path, body = write.request(target)
        response = client.post(path, json=body, headers=headers)
        if response.status_code != write.ok:
            raise RuntimeError(f"{write.name} to capture answered {response.status_code}")
    db.dispose()
    return sent


def _user_id(db: Database, username: str) -> int:
    with db.session(write=False) as session:
        query = text("SELECT id FROM users WHERE username = :name")
        return int(session.execute(query, {"name": username}).scalar_one())


def pgbench_script(
    sent: list[Captured], libpq: str, variables: dict[int, str], header: list[str]
) -> str:
    """`sent` as a pgbench script, in one transaction: each parameter rendered as a
    literal by psycopg, except the values in `variables` (the target's ids) and the ids
    earlier statements returned, which become pgbench variables (`\\gset`). The audit
    append is replayed as it was: its hashed text names the captured ids, and its columns
    must match that text for the chain to verify afterwards."""
    lines = [*header, "BEGIN;"]
    flows = dict(variables)
    with psycopg.connect(libpq) as conn:
        cursor = psycopg.ClientCursor(conn)
        for n, captured in enumerate(sent):
            literal = "audit_head" in captured.statement
            params = {
                k: f"\x01{flows[v]}\x01" if isinstance(v, int) and v in flows and not literal else v
                for k, v in captured.parameters.items()
            }
            sql = cursor.mogrify(captured.statement, params)
            for name in flows.values():
                sql = sql.replace(f"'\x01{name}\x01'", f":{name}")
            sql = " ".join(sql.split())
            if captured.returned_id is None:
                lines.append(f"{sql};")
            else:
                flows[captured.returned_id] = f"r{n}_id"
                lines.append(f"{sql} \\gset r{n}_")
    return "\n".join([*lines, "COMMIT;", ""])


def replay(
    url: str, db: Database, write: Write, answers: int, threads: int
) -> tuple[float, float, int]:
    """pgbench at concurrency 16 replaying the statements of one `write`, each
    transaction on a target of its own (a review or a vote can be made once per answer
    and person: the replay's are by the `replayer-` people, each client reviewing as its
    own one); returns (transactions/s, average latency ms, the number of statements)."""
    on_answer = "/answers/{id}" in write.name
    top = answers if on_answer else threads
    who = {"reviewer": "replayer-reviewer-1", "voter": "replayer-voter"}.get(write.who, "bench")
    target = top  # captured on the last target; the replay's stay below its warm-ups
    needed = CONCURRENCY * (REPLAY_CLIENTS_EACH + 1) + 7  # and the capture's 7 below them
    if who != "bench" and top < needed:
        raise SystemExit(f"pgbench's replay of {write.name} needs {needed} targets, not {top}")
    sent = capture(url, write, who, target)
    named = [(target, "target")]
    header = [
        "\\set n :n + 1",
        f"\\set target 1 + (:client_id + {CONCURRENCY} * :n) % {top - 1}",
    ]
    if on_answer:  # the seeded threads have three answers each: 1-3 on 1, 4-6 on 2 ...
        named.append(((target - 1) // 3 + 1, "question"))
        header.append("\\set question 1 + (:target - 1) / 3")
    if write.who == "reviewer":  # made one after another: their ids follow each other
        first = _user_id(db, who)
        if _user_id(db, f"replayer-reviewer-{CONCURRENCY}") != first + CONCURRENCY - 1:
            raise SystemExit("the replayer reviewers' ids do not follow each other")
        named.append((first, "reviewer"))
        header.append(f"\\set reviewer {first} + :client_id % {CONCURRENCY}")
    variables = dict(named)
    if len(variables) != len(named):  # one number for two ids: it could not tell them apart
        raise SystemExit(f"the replay's ids collide: {named}")
    libpq = libpq_url(url)
    script = pgbench_script(sent, libpq, variables, header)
    pgbench = (
        Path(
            subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        / "pgbench"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "request.sql"
        path.write_text(script)
        out = subprocess.run(
            [
                str(pgbench),
                "-n",
                "-c",
                str(CONCURRENCY),
                "-j",
                "2",
                "-t",
                str(REPLAY_CLIENTS_EACH),
                "-D",
                "n=0",
                "-f",
                str(path),
                libpq,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0 or "tps = " not in out.stdout:
        print(script)
        raise RuntimeError(f"pgbench failed: {out.stdout[-800:]} {out.stderr[-800:]}")
    tps = float(out.stdout.split("tps = ", 1)[1].split()[0])
    latency = float(out.stdout.split("latency average = ", 1)[1].split()[0])
    return tps, latency, len(sent)


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
            "--gil",  # only the thread holding the interpreter lock: where the CPU goes
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
        if not count.isdigit():
            continue  # a frame whose name ran over a line
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
def serving(url: str, workers: int, meili: Any = None) -> Iterator[tuple[str, int]]:
    """The API; with `meili` (a running Meilisearch) the search and notification workers
    run in its processes and drain their outboxes while the writes go on, otherwise both
    are stopped. Yields (base URL, server pid)."""
    if meili is None:
        env = {
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
            "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "false",
            "VOUCH_MEILI_URL": "http://127.0.0.1:9",  # no search: nothing reads it in a write
        }
    else:
        env = {
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "true",
            "VOUCH_NOTIFICATION_WORKER_IN_PROCESS": "true",
            "VOUCH_MEILI_URL": meili.url,
            "VOUCH_MEILI_KEY": meili.master_key,
        }
    with api_server(url, workers, **env) as base:
        out = subprocess.run(
            ["pgrep", "-f", f"vouch serve --port {base.rsplit(':', 1)[1].split('/')[0]}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        yield base, int(out[0]) if out else 0


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The run's database URL: a private PostgreSQL, or with `--sqlite` a SQLite file."""
    if args.sqlite:
        with tempfile.TemporaryDirectory(prefix="vouch-write-bench-") as tmp:
            yield f"sqlite:///{tmp}/vouch.db"
    else:
        with postgres(durable=not args.no_durable) as url:
            yield url


@contextmanager
def search_engine(args: argparse.Namespace, url: str) -> Iterator[Any]:
    """With `--draining`: a private Meilisearch holding the seeded threads."""
    if not args.draining:
        yield None
        return
    with (
        tempfile.TemporaryDirectory(prefix="vouch-write-bench-meili-") as tmp,
        LocalMeilisearch(Path(tmp) / "meili") as meili,
    ):
        settings = Settings(
            database_url=url,
            meili_url=meili.url,
            meili_key=meili.master_key,
            _env_file=None,
        )
        db = Database(url)
        reindex(db, settings, make_client(settings, timeout=60), lambda *_: None, batch_size=2000)
        db.dispose()
        yield meili


DRAINED = "search outbox 0 rows due, notification outbox 0"


def backlog(db: Database) -> str:
    """What the workers have still to do (rows due now; re-indexes scheduled for later,
    as an endorsement going stale, are not due)."""
    now = utcnow()
    with db.session(write=False) as session:
        search = session.execute(select(func.count()).where(*pending(now))).scalar_one()
        news = session.execute(
            select(func.count()).where(
                NotificationOutboxEntry.done_at.is_(None),
                NotificationOutboxEntry.available_at <= now,
            )
        ).scalar_one()
    return f"search outbox {search} rows due, notification outbox {news}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1500)
    parser.add_argument("--seconds", type=float, default=10.0, help="per write")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--no-durable", action="store_true", help="fsync and sync commit off")
    parser.add_argument("--sqlite", action="store_true", help="SQLite, 8 writers at once")
    parser.add_argument(
        "--draining", action="store_true", help="search and notification workers running"
    )
    parser.add_argument("--statements", action="store_true", help="print one request's SQL")
    parser.add_argument("--profile", type=float, default=0, help="seconds of py-spy sampling")
    parser.add_argument("--skip-load", action="store_true", help="only --statements/--profile")
    parser.add_argument("--only", default="", help="the writes whose name contains this")
    parser.add_argument("--keep-profile", default="", help="copy py-spy's stacks to this file")
    parser.add_argument("--concurrency", type=int, default=0, help="16; 8 on SQLite")
    parser.add_argument("--no-replay", action="store_true", help="no pgbench replay")
    args = parser.parse_args()
    concurrency = args.concurrency or (8 if args.sqlite else CONCURRENCY)
    on_postgres = not args.sqlite

    print(f"command: python -m bench.write_bench {' '.join(sys.argv[1:])}".rstrip())
    print(f"machine: {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    configure(1, 64)
    with database(args) as url:
        upgrade(url)
        db = Database(url)
        if on_postgres:
            with db.session(write=False) as session:
                fsync = session.execute(text("SHOW fsync")).scalar_one()
                sync = session.execute(text("SHOW synchronous_commit")).scalar_one()
            where = f"PostgreSQL fsync={fsync}, synchronous_commit={sync}"
        else:
            where = "SQLite (WAL, synchronous=NORMAL)"
        print(f"database: {where}")
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
        chosen = [w for w in WRITES if not args.only or args.only in w.name]
        results: list[Result] = []
        fixed: dict[str, list[float]] = {}
        waited: dict[str, str] = {}
        spent: dict[str, str] = {}
        with (
            search_engine(args, url) as meili,
            serving(url, args.web_workers, meili) as (
                api,
                pid,
            ),
        ):
            tokens = sign_in_people(api)
            if args.profile:
                with tempfile.TemporaryDirectory() as tmp:
                    out = Path(tmp) / "stacks.txt"
                    spy = threading.Thread(target=sample, args=(pid, args.profile, out))
                    spy.start()
                    per = args.profile / len(chosen)
                    for write in chosen:
                        drive(api, tokens[write.who], write, targets[write.name], per, concurrency)
                    spy.join()
                    if args.keep_profile:
                        shutil.copy(out, args.keep_profile)
                    print(f"(profiled the API's processes, server pid {pid})")
                    top_frames(out)
            before, actions_before = counts(db), audit_actions(db)
            if not args.skip_load:
                for write in chosen:
                    with Waits(url if on_postgres else None) as waits, Cpu(pid) as cpu:
                        results.append(
                            drive(
                                api,
                                tokens[write.who],
                                write,
                                targets[write.name],
                                args.seconds,
                                concurrency,
                            )
                        )
                    waited[write.name] = waits.line()
                    spent[write.name] = cpu.line(len(results[-1].latencies))
                me = {"Authorization": f"Bearer {tokens['bench'][0]}"}
                with http_client() as client:
                    for path, headers in (("/healthz", {}), ("/me", me)):
                        for _ in range(50):
                            client.get(f"{api}{path}", headers=headers)
                        fixed[path] = []
                        for _ in range(500):
                            began = time.perf_counter()
                            client.get(f"{api}{path}", headers=headers)
                            fixed[path].append((time.perf_counter() - began) * 1000)
            if meili is not None and results:
                print(f"at the end of the writes: {backlog(db)}")
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline and backlog(db) != DRAINED:
                    time.sleep(1)
                print(f"{time.monotonic() - deadline + 120:.0f} s later: {backlog(db)}")
        after, actions_after = counts(db), audit_actions(db)
        limits: dict[str, tuple[float, float, int]] = {}
        if results and on_postgres and not args.no_replay:
            for write in chosen:
                limits[write.name] = replay(url, db, write, answers, args.threads)
        with db.session(write=False) as session:
            report = verify_chain(session)
        db.dispose()

    if results:
        workers = "draining" if args.draining else "stopped"
        print(
            f"\nwrites at concurrency {concurrency}, {args.web_workers} API processes, "
            f"search and notification workers {workers}, {where}:"
        )
        print("| write | requests/s | median ms | p95 ms | errors |")
        print("| --- | --- | --- | --- | --- |")
        for r in results:
            errors = ", ".join(f"{n}x{code}" for code, n in r.errors.items()) or "0"
            print(
                f"| {r.name} | {r.rate:.1f} | {statistics.median(r.latencies):.1f} | "
                f"{p95(r.latencies):.1f} | {errors} |"
            )
        if limits:
            print(
                f"\nthe database's limit: pgbench at concurrency {CONCURRENCY} replaying the "
                f"statements of one request, each transaction on its own target "
                f"({CONCURRENCY} x {REPLAY_CLIENTS_EACH}), same database:"
            )
            print(
                "| write | statements | pgbench tps | latency ms | API requests/s | API / pgbench |"
            )
            print("| --- | --- | --- | --- | --- | --- |")
            for r in results:
                tps, latency, statements = limits[r.name]
                print(
                    f"| {r.name} | {statements} | {tps:.0f} | {latency:.1f} | {r.rate:.1f} | "
                    f"{r.rate / tps:.2f} |"
                )
        if on_postgres:
            print("\nwhat the database's sessions were doing (sampled every 5 ms, busy ones):")
            for name, line in waited.items():
                print(f"  {name}: {line}")
        print("\nwho spent the CPU (2xx requests only counted):")
        for name, line in spent.items():
            print(f"  {name}: {line}")
        made = Counter({r.name: len(r.latencies) for r in results})
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
            f"search outbox +{grown['search_outbox']} rows; "
            f"audit events +{grown['audit_events']}"
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
