"""A write load over real HTTP, and the checks that nothing a client was told is lost."""

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from app.answers.models import Answer
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.db import Database
from app.outbox.models import OutboxEntry
from app.questions.models import Question

# Past this a request counts as hung: the faults must end in an answer, not a wait.
REQUEST_TIMEOUT_SECONDS = 15.0


@dataclass
class Outcome:
    at: float  # seconds since the load started
    kind: str  # "question", "answer" or "read"
    status: int | None  # None: no HTTP answer (connection refused or reset)
    seconds: float
    id: int | None = None
    problem: str | None = None
    error: str | None = None


@dataclass
class Load:
    """16 clients writing questions and answers (and reading a thread now and then) until
    stopped; every outcome is kept."""

    base_url: str
    tokens: list[str]
    topic: str
    concurrency: int = 16
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _started: float = 0.0

    def start(self) -> "Load":
        self._started = time.monotonic()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True)
            for n in range(self.concurrency)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=REQUEST_TIMEOUT_SECONDS + 5)
        return self.outcomes

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def written(self) -> list[Outcome]:
        """The writes answered 201 so far."""
        with self._lock:
            return [o for o in self.outcomes if o.kind != "read" and o.status == 201]

    def questions(self) -> list[int]:
        with self._lock:
            return [o.id for o in self.outcomes if o.kind == "question" and o.id is not None]

    def _client(self, n: int) -> None:
        rng = random.Random(n)
        headers = {"Authorization": f"Bearer {self.tokens[n % len(self.tokens)]}"}
        with httpx.Client(
            base_url=self.base_url, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
        ) as client:
            while not self._stop.is_set():
                asked = self.questions()
                roll = rng.random()
                if not asked or roll < 0.5:
                    self._send(client, "question", "POST", "/questions", self._question(rng, n))
                elif roll < 0.9:
                    target = rng.choice(asked)
                    body = {"body": f"Check the policy schedule first ({n}, {rng.random()})."}
                    self._send(client, "answer", "POST", f"/questions/{target}/answers", body)
                else:
                    self._send(client, "read", "GET", f"/questions/{rng.choice(asked)}", None)

    def _question(self, rng: random.Random, n: int) -> dict[str, Any]:
        return {
            "title": f"Client {n} asks about lapsed cover {rng.randrange(10**9)}",
            "body": "A customer's direct debit failed twice; is the policy still in force?",
            "topic": self.topic,
        }

    def _send(
        self, client: httpx.Client, kind: str, method: str, path: str, body: Any | None
    ) -> None:
        at = time.monotonic()
        outcome = Outcome(at - self._started, kind, None, 0.0)
        try:
            response = client.request(method, path, json=body)
            outcome.status = response.status_code
            if response.headers.get("content-type", "").startswith("application/problem+json"):
                outcome.problem = str(response.json().get("type", "")).rsplit("/", 1)[-1]
            elif response.is_success and kind != "read":
                outcome.id = int(response.json()["id"])
        except httpx.HTTPError as exc:
            outcome.error = type(exc).__name__
            time.sleep(0.05)  # a refused connection answers at once: do not spin
        outcome.seconds = time.monotonic() - at
        with self._lock:
            self.outcomes.append(outcome)


def summary(outcomes: list[Outcome]) -> str:
    statuses = Counter(o.status if o.status is not None else o.error for o in outcomes)
    return f"{len(outcomes)} requests: " + ", ".join(f"{k}: {v}" for k, v in statuses.items())


def assert_nothing_lost(db: Database, outcomes: list[Outcome]) -> dict[str, int]:
    """Every question and answer a client got a 201 for is in the database with its
    `*.create` event and an outbox row; no question or answer is there without them; the
    chain verifies. Returns the counts it checked."""
    questions = {o.id for o in outcomes if o.kind == "question" and o.status == 201}
    answers = {o.id for o in outcomes if o.kind == "answer" and o.status == 201}
    with db.session(write=False) as session:
        stored_questions = set(session.scalars(select(Question.id)))
        stored_answers = dict(session.execute(select(Answer.id, Answer.question_id)).all())
        events = Counter(
            session.execute(
                select(AuditEvent.action, AuditEvent.target_id).where(
                    AuditEvent.action.in_(("question.create", "answer.create"))
                )
            ).all()
        )
        indexed = set(session.scalars(select(OutboxEntry.question_id).distinct()))
        report = audit.verify_chain(session)
        total_events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert questions <= stored_questions, f"lost questions: {sorted(questions - stored_questions)}"
    assert answers <= stored_answers.keys(), f"lost answers: {sorted(answers - stored_answers)}"
    # No partial thread: each stored row has exactly one event, its thread has an outbox row.
    for question_id in stored_questions:
        assert events[("question.create", str(question_id))] == 1, question_id
    for answer_id, question_id in stored_answers.items():
        assert events[("answer.create", str(answer_id))] == 1, answer_id
        assert question_id in stored_questions
    assert stored_questions <= indexed, f"without outbox rows: {stored_questions - indexed}"
    assert report.ok, report
    return {
        "questions_201": len(questions),
        "answers_201": len(answers),
        "questions_stored": len(stored_questions),
        "answers_stored": len(stored_answers),
        "audit_events": total_events,
    }
