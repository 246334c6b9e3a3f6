"""Audit trail benchmark: export and verify throughput, export memory, audit write latency.

    .venv/bin/python bench/audit_bench.py                     # 1,000,000 events, private PostgreSQL
    .venv/bin/python bench/audit_bench.py --db sqlite --events 200000

Loads N valid chained events in bulk (COPY on PostgreSQL), then measures, against that
trail: the HTTP export (`GET /api/v1/audit/events`, served by a separate uvicorn process
whose RSS is sampled at 100k and at N events streamed), `vouch audit export` to a file
(peak RSS), `verify_chain` on the database, `verify-file` on the export, and the latency
an audit event adds to a write transaction (the same insert with and without
`audit.record`, interleaved).
"""

import argparse
import itertools
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, update  # noqa: E402

from app.audit import service as audit  # noqa: E402
from app.audit.chain import HASHED_FIELDS, VerifyReport, canonical_json, event_hash  # noqa: E402
from app.audit.models import AuditEvent, AuditHead  # noqa: E402
from app.audit.offline import verify_lines  # noqa: E402
from app.auth import passwords  # noqa: E402
from app.comments.models import Comment  # noqa: E402
from app.db import Database, session_scope  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.questions.models import Question  # noqa: E402
from app.topics.schemas import TopicCreate  # noqa: E402
from app.topics.service import create_topic  # noqa: E402
from app.users.schemas import UserCreate  # noqa: E402
from app.users.service import create_user  # noqa: E402
from tests.support.live_server import free_port  # noqa: E402
from tests.support.postgres import EphemeralPostgres  # noqa: E402

SETUP = audit.AuditContext(audit.Actor(None, "bench", ("system",)), user_agent="bench")
PASSWORD = "bench-password-1"
COLUMNS = (*HASHED_FIELDS, "hash")

# What real events look like: a mix of actions with payloads of typical size.
TEMPLATES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "question.create",
        "question",
        {
            "after": {
                "title": "Can a customer claim for accidental damage to a laptop at work?",
                "body": "Home contents policy with accidental damage cover. " * 4,
                "tags": ["contents", "accidental-damage"],
                "topic": "claims",
                "status": "open",
                "revision": 1,
            }
        },
    ),
    (
        "answer.create",
        "answer",
        {"after": {"question_id": 7, "body": "Only with personal possessions cover. " * 5}},
    ),
    ("vote.cast", "answer", {"before": {"value": None}, "after": {"value": 1}, "score": 3}),
    ("auth.login", "user", {"username": "alice", "token_id": 42, "expires_at": "2026-01-01"}),
    (
        "answer.update",
        "answer",
        {"before": {"body": "Old text. " * 8}, "after": {"body": "New text. " * 8}, "revision": 2},
    ),
]


def generate(count: int, seq: int, prev: str) -> Iterator[dict[str, Any]]:
    """`count` valid events continuing a chain whose head is (`seq`, `prev`)."""
    start = datetime.now(UTC) - timedelta(days=365)
    for n in range(count):
        action, target, payload = TEMPLATES[n % len(TEMPLATES)]
        fields: dict[str, Any] = {
            "seq": seq + 1 + n,
            "occurred_at": start + timedelta(milliseconds=20 * n),
            "actor_id": n % 500 + 1,
            "actor_username": f"user{n % 500 + 1}",
            "actor_roles": ["rep"],
            "action": action,
            "outcome": "success",
            "target_type": target,
            "target_id": str(n // 5 + 1),
            "request_id": f"{n:032x}",
            "client_ip": "10.1.2.3",
            "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36",
            "payload": payload,
            "prev_hash": prev,
        }
        fields["hash"] = prev = event_hash(fields)
        yield fields


def load(db: Database, count: int) -> float:
    """Append `count` events in bulk; returns the seconds it took."""
    began = time.perf_counter()
    with session_scope(db) as session:
        seq, prev = audit.read_head(session)
    events = generate(count, seq, prev)
    last_hash = prev
    if db.engine.dialect.name == "postgresql":
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            names = ", ".join(COLUMNS)
            with cursor.copy(f"COPY audit_events ({names}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for event in events:
                    # Stored as the application stores them (CanonicalJSON).
                    event["actor_roles"] = canonical_json(event["actor_roles"])
                    event["payload"] = canonical_json(event["payload"])
                    copy.write_row([event[name] for name in COLUMNS])
                    last_hash = event["hash"]
            cursor.execute("UPDATE audit_head SET seq = %s, hash = %s", (seq + count, last_hash))
            raw.commit()
        finally:
            raw.close()
    else:
        table = AuditEvent.__table__
        with db.engine.begin() as conn:
            while batch := list(itertools.islice(events, 20_000)):
                conn.execute(insert(table), batch)
                last_hash = batch[-1]["hash"]
            conn.execute(update(AuditHead.__table__).values(seq=seq + count, hash=last_hash))
    return time.perf_counter() - began


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def http_export(url: str, env: dict[str, str], total: int) -> dict[str, Any]:
    """Stream the whole trail from a separate API process, sampling its memory."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app.main:create_app",
            "--factory",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/v1"
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        login = {"username": "bench-compliance", "password": PASSWORD}
        token = httpx.post(f"{base}/auth/token", json=login).json()["access_token"]
        idle = rss_kib(server.pid)
        samples: dict[int, int] = {}
        marks = sorted({min(100_000, total), total})
        lines = 0
        began = time.perf_counter()
        with httpx.stream(
            "GET",
            f"{base}/audit/events",
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_raw(1 << 20):
                lines += chunk.count(b"\n")
                while marks and lines >= marks[0]:
                    samples[marks.pop(0)] = rss_kib(server.pid)
        elapsed = time.perf_counter() - began
        return {
            "events": lines,
            "seconds": elapsed,
            "rate": lines / elapsed,
            "rss_idle_mib": idle / 1024,
            "rss_mib": {k: v / 1024 for k, v in samples.items()},
            "peak_mib": rss_kib(server.pid, "VmHWM") / 1024,
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def cli_export(env: dict[str, str], path: Path) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    began = time.perf_counter()
    subprocess.run(
        [str(ROOT / ".venv/bin/vouch"), "audit", "export", "-o", str(path)],
        env=env,
        check=True,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = sum(1 for _ in path.open("rb"))
    return {
        "events": lines,
        "seconds": elapsed,
        "rate": lines / elapsed,
        "peak_mib": max(peak, before) / 1024,
    }


def _timed_verify(verify: Callable[[], VerifyReport]) -> dict[str, Any]:
    """Run one verification (it must find the chain intact) and report its rate."""
    began = time.perf_counter()
    report = verify()
    elapsed = time.perf_counter() - began
    assert report.ok, report
    return {
        "events": report.events_checked,
        "seconds": elapsed,
        "rate": report.events_checked / elapsed,
    }


def verify_db(db: Database) -> dict[str, Any]:
    def verify() -> VerifyReport:
        with db.session(write=False) as session:
            return audit.verify_chain(session)

    return _timed_verify(verify)


def verify_file(path: Path) -> dict[str, Any]:
    def verify() -> VerifyReport:
        with path.open("rb") as lines:
            return verify_lines(lines)

    return _timed_verify(verify)


def write_latency(db: Database, rounds: int) -> dict[str, float]:
    """Median and p95 of a small write transaction with and without its audit event."""
    with session_scope(db) as session:
        topic = create_topic(session, SETUP, TopicCreate(slug="bench", name="Bench"))
        user = create_user(
            session,
            SETUP,
            UserCreate(username="bench-writer", display_name="W", password=PASSWORD, roles=["rep"]),
        )
        question = Question(topic=topic, author=user, title="Bench question", body="b", revision=1)
        session.add(question)
        session.flush()
        user_id, question_id = user.id, question.id
    ctx = audit.AuditContext(audit.Actor(user_id, "bench-writer", ("rep",)), "req", "10.0.0.1")
    timings: dict[bool, list[float]] = {False: [], True: []}
    for n in range(rounds * 2):
        audited = n % 2 == 1
        began = time.perf_counter()
        with session_scope(db) as session:
            comment = Comment(question_id=question_id, author_id=user_id, body=f"comment {n}")
            session.add(comment)
            session.flush()
            if audited:
                audit.record(
                    session,
                    ctx,
                    "comment.create",
                    target_type="comment",
                    target_id=comment.id,
                    payload={"after": {"question_id": question_id, "body": comment.body}},
                )
        timings[audited].append((time.perf_counter() - began) * 1000)

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    plain, audited_ms = timings[False], timings[True]
    return {
        "plain_median_ms": statistics.median(plain),
        "audited_median_ms": statistics.median(audited_ms),
        "added_median_ms": statistics.median(audited_ms) - statistics.median(plain),
        "plain_p95_ms": p95(plain),
        "audited_p95_ms": p95(audited_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--write-rounds", type=int, default=2_000)
    args = parser.parse_args()
    command = "bench/audit_bench.py " + shlex.join(sys.argv[1:])

    workdir = Path(tempfile.mkdtemp(prefix="vouch-audit-bench-"))
    pg = EphemeralPostgres().start() if args.db == "postgres" else None
    url = pg.create_database("audit_bench") if pg else f"sqlite:///{workdir / 'bench.db'}"
    try:
        upgrade(url)
        passwords.configure(1, 64)
        db = Database(url)
        with session_scope(db) as session:
            create_user(
                session,
                SETUP,
                UserCreate(
                    username="bench-compliance",
                    display_name="C",
                    password=PASSWORD,
                    roles=["compliance"],
                ),
            )
        loaded = load(db, args.events)
        print(f"loaded {args.events:,} events in {loaded:.1f} s ({args.events / loaded:,.0f}/s)")
        env = {
            **os.environ,
            "VOUCH_DATABASE_URL": url,
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
            "VOUCH_LOG_LEVEL": "WARNING",
        }
        results = {
            "http export": http_export(url, env, args.events),
            "cli export": cli_export(env, workdir / "export.ndjson"),
            "verify (database)": verify_db(db),
            "verify-file": verify_file(workdir / "export.ndjson"),
        }
        latency = write_latency(db, args.write_rounds)
        db.dispose()
    finally:
        if pg:
            pg.stop()

    print(f"\n$ .venv/bin/python {command}")
    print(f"database: {args.db}, events: {args.events:,}, cpus: {os.cpu_count()}\n")
    print(f"{'measure':<20}{'events':>12}{'seconds':>10}{'events/s':>12}  memory")
    for name, r in results.items():
        memory = ""
        if "rss_mib" in r:
            at = ", ".join(f"{k // 1000}k: {v:.0f} MiB" for k, v in r["rss_mib"].items())
            idle, peak = r["rss_idle_mib"], r["peak_mib"]
            memory = f"server RSS idle {idle:.0f} MiB, at {at}; peak {peak:.0f} MiB"
        elif "peak_mib" in r:
            memory = f"peak RSS {r['peak_mib']:.0f} MiB"
        print(f"{name:<20}{r['events']:>12,}{r['seconds']:>10.2f}{r['rate']:>12,.0f}  {memory}")
    print(
        f"\naudit write ({args.write_rounds} each, interleaved): "
        f"median {latency['plain_median_ms']:.3f} ms without, "
        f"{latency['audited_median_ms']:.3f} ms with the event: "
        f"+{latency['added_median_ms']:.3f} ms; "
        f"p95 {latency['plain_p95_ms']:.3f} / {latency['audited_p95_ms']:.3f} ms"
    )


if __name__ == "__main__":
    main()
