"""The web pages' speed and weight: the thread page with 50 answers, the home and search pages.

    .venv/bin/python -m bench.web_bench [--answers 50] [--repeat 300]

Starts its own PostgreSQL and Meilisearch, builds a thread of `--answers` answers (each
with two comments, half of them reviewed) and 200 other threads through the services,
then times `vouch serve` over HTTP at concurrency 1 (deployed as compose.yaml does: the
search worker runs as `vouch worker` beside it, not inside it): the thread page beside the JSON
API's thread endpoint in the same run, the home page and a search page. It prints
medians and p95 of the round trip and of the server's own time (its `Server-Timing`),
and each page's weight with its CSS and JavaScript, gzip-compressed as served.
Targets (issue 9): thread page server time median <= 20 ms, p95 <= 50 ms; <= 60 KB
compressed.
"""

import argparse
import gzip
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from app.answers.schemas import AnswerCreate
from app.answers.service import create_answer
from app.audit.service import Actor, AuditContext
from app.auth.passwords import configure
from app.comments.service import add_comment
from app.config import Settings
from app.db import Database, session_scope
from app.deps import actor_of
from app.migrate import upgrade
from app.questions.models import Question
from app.questions.schemas import QuestionCreate
from app.questions.service import create_question
from app.reviews.schemas import ReviewCreate
from app.reviews.service import create_review
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.models import User
from app.users.schemas import UserCreate
from app.users.service import create_user
from bench.common import api_server, postgres, summary, timed
from search.local_server import LocalMeilisearch

PASSWORD = "bench-password-long"
SETUP = AuditContext(actor=Actor(None, "bench", ("system",)))
TEXT = (
    "For a home contents claim, check the schedule first: accidental damage applies inside "
    "the home unless the policy adds **personal possessions** cover, which extends it away "
    "from home. Ask the customer where the item was, when it happened and whether it is "
    "theirs. See the [claims handbook](https://intranet.example/claims) for the steps."
)


def _user(session: object, username: str, roles: list[str], topics: list[str]) -> User:
    return create_user(
        session,  # type: ignore[arg-type]
        SETUP,
        UserCreate(
            username=username,
            display_name=username.title(),
            password=PASSWORD,
            roles=roles,  # type: ignore[arg-type]
            expert_topics=topics,
        ),
    )


def build(db: Database, settings: Settings, answers: int) -> int:
    """The data; returns the id of the big thread."""
    with session_scope(db) as session:
        create_topic(session, SETUP, TopicCreate(slug="claims", name="Claims"))
        rep = _user(session, "rep", ["rep"], [])
        expert = _user(session, "expert", ["expert"], ["claims"])
        writers = [_user(session, f"writer{i}", ["rep"], []) for i in range(10)]

        def as_(user: User) -> AuditContext:
            return SETUP.as_actor(actor_of(user))

        def ask(n: int) -> int:
            data = QuestionCreate(
                title=f"How do I handle accidental damage claim number {n}?",
                body=TEXT,
                topic="claims",
                tags=["contents", "accidental-damage"],
            )
            return create_question(session, as_(rep), rep, data).id

        for n in range(200):
            ask(n)
        thread_id = ask(1000)
        question = session.get_one(Question, thread_id)
        for i in range(answers):
            writer = writers[i % len(writers)]
            reply = create_answer(session, as_(writer), writer, question, AnswerCreate(body=TEXT))
            for j in range(2):
                add_comment(
                    session, as_(rep), rep, thread_id, f"Comment {j} on {i}: {TEXT[:120]}", reply.id
                )
            if i % 2 == 0:
                verdict = ("endorse", "correct", "reject")[i // 2 % 3]
                fields = {} if verdict == "endorse" else {"rationale": "Check the schedule."}
                if verdict == "correct":
                    fields["correction"] = TEXT
                create_review(
                    session,
                    settings,
                    as_(expert),
                    expert,
                    reply.id,
                    ReviewCreate.model_validate({"verdict": verdict, **fields}),
                )
        return thread_id


@contextmanager
def search_worker(url: str, env: dict[str, str]) -> Iterator[None]:
    """`vouch worker` in a subprocess for the run."""
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "vouch"), "worker"],
        env={**os.environ, **env, "VOUCH_DATABASE_URL": url},
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.terminate()
        process.wait(timeout=20)


def sign_in(base: str) -> httpx.Client:
    client = httpx.Client(
        base_url=base, timeout=30, headers={"Accept-Encoding": "gzip"}, follow_redirects=True
    )
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/login", data={"username": "rep", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 200 and "Sign out" in response.text, response.status_code
    return client


def weight(client: httpx.Client, path: str) -> tuple[int, int]:
    """The compressed bytes of a page and of each stylesheet and script it loads."""

    def compressed(url: str) -> int:
        response = client.get(url)
        response.raise_for_status()
        if response.headers.get("content-encoding") == "gzip":
            return int(
                response.headers.get("content-length") or len(gzip.compress(response.content))
            )
        return len(gzip.compress(response.content))

    html = client.get(path).text
    assets = re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html)
    return compressed(path), sum(compressed(a) for a in dict.fromkeys(assets))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--answers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    configure(1, 64)
    with (
        postgres() as url,
        tempfile.TemporaryDirectory() as tmp,
        LocalMeilisearch(Path(tmp)) as meili,
    ):
        upgrade(url)
        settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
        db = Database(url)
        started = time.perf_counter()
        thread_id = build(db, settings, args.answers)
        db.dispose()
        print(
            f"built {args.answers} answers and 201 threads in {time.perf_counter() - started:.1f} s"
        )
        env = {
            "VOUCH_MEILI_URL": meili.url,
            "VOUCH_MEILI_KEY": meili.master_key,
            "VOUCH_ARGON2_TIME_COST": "1",
            "VOUCH_ARGON2_MEMORY_KIB": "64",
            # As deployed (compose.yaml): the search worker in a process of its own.
            "VOUCH_SEARCH_WORKER_IN_PROCESS": "false",
        }
        with search_worker(url, env), api_server(url, **env) as api_base:
            base = api_base.removesuffix("/api/v1")
            page = sign_in(base)
            token = httpx.post(
                f"{api_base}/auth/token", json={"username": "rep", "password": PASSWORD}
            ).json()["access_token"]
            api = httpx.Client(
                base_url=api_base, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
            # Let the worker index the threads before the search page is timed.
            deadline = time.monotonic() + 60
            while (
                api.get("/readyz").json().get("outbox_backlog") != 0 and time.monotonic() < deadline
            ):
                time.sleep(0.5)
            thread = f"/questions/{thread_id}"
            search_path = "/search?q=accidental+damage"

            # Each page's time twice: as the client waits for it (round trip, gzip
            # decoding included) and as the server reports it in `Server-Timing` (from the
            # request's arrival to its response being rendered and compressed).
            server: dict[str, list[float]] = {}

            def get(client: httpx.Client, path: str, name: str = "") -> None:
                response = client.get(path)
                response.raise_for_status()
                took = re.search(r"app;dur=([0-9.]+)", response.headers["server-timing"])
                server.setdefault(name, []).append(float(took.group(1)))  # type: ignore[union-attr]

            for client in (page, api):
                timed(lambda c=client: get(c, thread), 20)  # warm-up
            runs = {
                f"thread page, {args.answers} answers (HTML)": timed(
                    lambda: get(page, thread, "html"), args.repeat
                ),
                f"thread endpoint, {args.answers} answers (JSON API)": timed(
                    lambda: get(api, thread, "json"), args.repeat
                ),
                "home page": timed(lambda: get(page, "/", "home"), args.repeat // 3),
                "search page": timed(lambda: get(page, search_path, "search"), args.repeat // 3),
            }
            keys = ("html", "json", "home", "search")
            for (label, samples), key in zip(runs.items(), keys, strict=True):
                print(summary(f"{label}, round trip", samples))
                print(summary(f"{label}, server time", server[key]))
            ratio = statistics.median(server["html"]) / statistics.median(server["json"])
            print(f"{'HTML / JSON server time, median':<44} {ratio:.2f}")
            for name, path in (("thread", thread), ("home", "/"), ("search", search_path)):
                doc, assets = weight(page, path)
                print(
                    f"{name + ' page weight, gzip':<44} html={doc / 1024:5.1f} KB"
                    f"  css+js={assets / 1024:5.1f} KB  total={(doc + assets) / 1024:5.1f} KB"
                )


if __name__ == "__main__":
    main()
