"""Notifications at scale: asking in a topic of 500 experts, and the fan-out's rate.

    .venv/bin/python -m bench.notify_bench [--experts 500] [--requests 200] [--db sqlite|postgres]

Creates two topics through the services, one with `--experts` experts and one with none,
and a rep who asks. Then, against `vouch serve` in a subprocess (with the notification
fan-out stopped: `bench.common.api_server` turns the in-process worker off and no `vouch
worker` runs), it posts `--requests` questions to each topic over HTTP, at each
`--concurrency` in turn, the two topics alternating in rounds so both see the same
machine, and prints the medians, p95 and the ratios. Target (the notifications issue):
a question in a topic of 500 experts costs its request what it costs in a topic with
none (the request writes one outbox row whatever the number of experts).

Afterwards it drains the notification outbox in this process with
`app.notifications.fanout.drain`, as `vouch worker` does, and prints the notifications
written per second, counting the `notifications` rows before and after. Target:
>= 1,000 notifications/s.

Last, email: `--emails` of those notifications are planned as emails and sent by
`app.notifications.deliveries.drain` with the email channel's sender, as the worker's
email loop does, to a local SMTP server (aiosmtpd, in this process) that counts what it
receives; it prints the emails sent per second.
"""

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy import func, select, update

from app.audit.service import Actor, AuditContext
from app.auth.passwords import configure, hash_password
from app.config import Settings
from app.db import Database, session_scope
from app.migrate import upgrade
from app.notifications import deliveries, mail
from app.notifications.fanout import backlog, drain
from app.notifications.models import Channel, Notification
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.models import User
from app.users.schemas import UserCreate
from app.users.service import add_users, create_user
from bench.common import api_server, free_port, postgres, summary
from bench.search_bench import http_client

SETUP = AuditContext(actor=Actor(None, "bench", ("system",)))
PASSWORD = "bench-password-1"
CROWDED, QUIET = "crowded", "quiet"
ROUNDS = 4  # alternating rounds per topic and concurrency
WARMUP = 20
BODY = (
    "A customer's contents policy lists accidental damage, but the laptop was damaged at "
    "work. Does the cover extend away from home, or does that need personal possessions "
    "cover? The schedule does not say."
)


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A private PostgreSQL, or a SQLite file in a temporary directory; yields its URL."""
    if kind == "postgres":
        with postgres() as url:
            yield url
    else:
        with tempfile.TemporaryDirectory(prefix="vouch-notify-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def seed(db: Database, experts: int) -> None:
    """The two topics, the asker, and the experts of one topic in one flush and one
    append to the audit chain (`add_users`, as the importer stores many users)."""
    with session_scope(db) as session:
        crowded = create_topic(session, SETUP, TopicCreate(slug=CROWDED, name="Crowded"))
        create_topic(session, SETUP, TopicCreate(slug=QUIET, name="Quiet"))
        create_user(
            session,
            SETUP,
            UserCreate(username="asker", display_name="Asker", password=PASSWORD, roles=["rep"]),
        )
        password_hash = hash_password(PASSWORD)
        add_users(
            session,
            SETUP,
            [
                User(
                    username=f"expert{n}",
                    display_name=f"Expert {n}",
                    password_hash=password_hash,
                    roles=["expert"],
                    expert_topics=[crowded],
                    active=True,
                    reputation=0,
                )
                for n in range(1, experts + 1)
            ],
        )


def p95(samples: list[float]) -> float:
    """The p95 as `bench.common.summary` prints it."""
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def ask(base: str, token: str, topic: str, count: int, concurrency: int) -> list[float]:
    """`count` POST /questions to `topic` from `concurrency` threads, each with its own
    kept-alive connection; milliseconds per request (any status but 201 stops the run)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}"}
    share = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]

    def worker(index: int) -> None:
        mine = []
        with http_client() as client:
            for n in range(share[index]):
                body = {
                    "title": f"Accidental damage away from home, case {index}-{n}",
                    "body": BODY,
                    "topic": topic,
                    "tags": ["contents"],
                }
                began = time.perf_counter()
                response = client.post(f"{base}/questions", json=body, headers=headers)
                elapsed = (time.perf_counter() - began) * 1000
                if response.status_code != 201:
                    with lock:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                    return
                mine.append(elapsed)
        with lock:
            latencies.extend(mine)

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if failures:
        raise RuntimeError(f"POST /questions failed: {failures[0]}")
    return latencies


def count_rows(db: Database) -> int:
    with db.session(write=False) as session:
        return int(session.execute(select(func.count()).select_from(Notification)).scalar_one())


class _Counting:
    """An SMTP server's handler that counts the messages it accepts."""

    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.received += 1
        return "250 OK"


def send_emails(db: Database, settings: Settings, count: int) -> tuple[int, float]:
    """Plan `count` of the notifications as emails (their recipients given addresses) and
    send them to a local SMTP server; returns (received, seconds)."""
    handler = _Counting()
    port = free_port()
    server = Controller(handler, hostname="127.0.0.1", port=port)
    server.start()
    try:
        mailing = settings.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": port})
        with session_scope(db) as session:
            session.execute(update(User).values(email=User.username + "@example.com"))
            picked = session.execute(
                select(Notification.id, Notification.user_id, Notification.kind)
                .order_by(Notification.id)
                .limit(count)
            ).all()
            deliveries.add_emails(session, [(n, u, k) for n, u, k in picked])
        began = time.perf_counter()
        sent = deliveries.drain(db, mailing, Channel.email, mail.send, max_batches=10**6)
        seconds = time.perf_counter() - began
    finally:
        server.stop()
    if sent != len(picked) or handler.received != sent:
        raise SystemExit(f"sent {sent}, received {handler.received}, planned {len(picked)}")
    return sent, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experts", type=int, default=500)
    parser.add_argument("--requests", type=int, default=200, help="per topic and concurrency")
    parser.add_argument("--db", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--emails", type=int, default=2000, help="emails to send at the end")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[1, 16],
        help="concurrent clients, each level in turn (16: the search bench's writes)",
    )
    args = parser.parse_args()

    print(f"command: python -m bench.notify_bench {' '.join(sys.argv[1:])}".rstrip())
    print(f"machine: {os.cpu_count()} cores; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    configure(1, 64)  # cheap hashes for the seeded users; the API verifies what they carry
    with database(args.db) as url:
        upgrade(url)
        db = Database(url)
        began = time.perf_counter()
        seed(db, args.experts)
        print(
            f"seeded topic {CROWDED!r} with {args.experts} experts, topic {QUIET!r} with none, "
            f"in {time.perf_counter() - began:.1f} s ({args.db})"
        )
        env = {
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
            "VOUCH_ARGON2_TIME_COST": "1",
            "VOUCH_ARGON2_MEMORY_KIB": "64",
        }
        results: dict[tuple[int, str], list[float]] = {}
        with api_server(url, **env) as base:
            token = httpx.post(
                f"{base}/auth/token", json={"username": "asker", "password": PASSWORD}
            ).json()["access_token"]
            for topic in (CROWDED, QUIET):
                ask(base, token, topic, WARMUP, 4)
            for concurrency in args.concurrency:
                per_round = [
                    args.requests // ROUNDS + (r < args.requests % ROUNDS) for r in range(ROUNDS)
                ]
                for r, count in enumerate(per_round):
                    order = (CROWDED, QUIET) if r % 2 == 0 else (QUIET, CROWDED)
                    for topic in order:
                        samples = ask(base, token, topic, count, concurrency)
                        results.setdefault((concurrency, topic), []).extend(samples)
            ready = httpx.get(f"{base}/readyz").json()
        posted = {
            topic: WARMUP + sum(len(v) for (_c, t), v in results.items() if t == topic)
            for topic in (CROWDED, QUIET)
        }

        print()
        print("POST /api/v1/questions (the notification fan-out stopped)")
        for concurrency in args.concurrency:
            crowded, quiet = results[(concurrency, CROWDED)], results[(concurrency, QUIET)]
            print(summary(f"c{concurrency}, topic with {args.experts} experts", crowded))
            print(summary(f"c{concurrency}, topic with no experts", quiet))
            print(
                f"{f'c{concurrency}, {args.experts} experts / none':<44} "
                f"median {statistics.median(crowded) / statistics.median(quiet):.2f}x"
                f"  p95 {p95(crowded) / p95(quiet):.2f}x"
            )

        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        with db.session(write=False) as session:
            pending = backlog(session)
        before = count_rows(db)
        print()
        print(
            f"outbox after the requests: {pending} pending (/readyz: "
            f"{ready.get('notification_backlog')}), {before} notifications written; "
            f"questions posted: {posted[CROWDED]} to {CROWDED!r}, {posted[QUIET]} to {QUIET!r}"
        )
        began = time.perf_counter()
        written = drain(db, settings)
        seconds = time.perf_counter() - began
        after = count_rows(db)
        with db.session(write=False) as session:
            left = backlog(session)
        mailed, mail_seconds = send_emails(db, settings, args.emails)
        db.dispose()

    expected = posted[CROWDED] * args.experts
    print(
        f"fan-out (drain, batch {settings.notification_batch_size}): {pending} pieces of news, "
        f"{written:,} notifications written in {seconds:.2f} s: {written / seconds:,.0f} "
        f"notifications/s, {pending / seconds:,.1f} pieces of news/s"
    )
    print(
        f"notifications rows: {before:,} before, {after:,} after (+{after - before:,}; "
        f"expected {expected:,}); outbox pending after: {left}"
    )
    if after - before != written or written != expected or left:
        raise SystemExit("the fan-out did not write what was expected")
    print(
        f"email: {mailed:,} emails sent to a local SMTP server in {mail_seconds:.2f} s: "
        f"{mailed / mail_seconds:,.0f} emails/s (batch {settings.delivery_batch_size}, one "
        "connection per batch, each outcome committed as it is known)"
    )
    print("targets: the median and p95 ratios ~1.0; fan-out >= 1,000 notifications/s")


if __name__ == "__main__":
    main()
