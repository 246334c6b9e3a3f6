"""Small factories: people who can log in, topics, and threads built through the API."""

import itertools
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from app.audit.service import Actor, AuditContext
from app.db import Database, session_scope
from app.topics.models import Topic
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.schemas import UserCreate
from app.users.service import create_user

SETUP = AuditContext(actor=Actor(None, "test-setup", ("system",)))
PASSWORD = "correct horse battery"


@dataclass
class Person:
    id: int
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class People:
    """Creates users directly and logs them in through POST /auth/token."""

    def __init__(self, client: TestClient, db: Database) -> None:
        self.client = client
        self.db = db
        self._seq = itertools.count(1)

    def topic(self, slug: str | None = None, **fields: Any) -> str:
        slug = slug or f"topic-{next(self._seq)}"
        with session_scope(self.db) as session:
            existing = session.query(Topic).filter_by(slug=slug).one_or_none()
            if existing is None:
                create_topic(session, SETUP, TopicCreate(slug=slug, name=slug.title(), **fields))
        return slug

    def make(
        self,
        *roles: str,
        topics: tuple[str, ...] = (),
        username: str | None = None,
        email: bool = False,
    ) -> Person:
        """A user who is logged in; `email`: with the address `<username>@example.com`."""
        username = username or f"{roles[0] if roles else 'user'}{next(self._seq)}"
        for slug in topics:
            self.topic(slug)
        with session_scope(self.db) as session:
            user = create_user(
                session,
                SETUP,
                UserCreate(
                    username=username,
                    display_name=username.title(),
                    password=PASSWORD,
                    roles=list(roles or ("rep",)),
                    expert_topics=list(topics),
                    email=f"{username}@example.com" if email else None,
                ),
            )
            user_id = user.id
        return Person(user_id, username, self.login(username))

    def login(self, username: str, password: str = PASSWORD) -> str:
        response = self.client.post(
            "/auth/token", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def ask(client: TestClient, person: Person, topic: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "How do I handle a lapsed policy?", "body": "Details here.", "topic": topic}
    response = client.post("/questions", json={**body, **fields}, headers=person.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def answer(
    client: TestClient, person: Person, question_id: int, body: str = "An answer."
) -> dict[str, Any]:
    response = client.post(
        f"/questions/{question_id}/answers", json={"body": body}, headers=person.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_thread_signal(db: Database, question_id: int) -> int:
    """An open thread learning need on `question_id`, inserted directly; returns its id."""
    from app.questions.models import Question
    from app.signals.models import LearningNeed, LearningNeedEvent

    with session_scope(db) as session:
        question = session.get_one(Question, question_id)
        need = LearningNeed(
            kind="thread",
            topic_id=question.topic_id,
            question_id=question_id,
            status="open",
            wrong_count=2,
            reviewed_count=2,
        )
        session.add(need)
        session.flush()
        session.add(
            LearningNeedEvent(
                learning_need_id=need.id, status="open", note="", wrong_count=2, reviewed_count=2
            )
        )
        return need.id


# Tables that reviews, flags, signals, signposts and reputation write to.
VALIDATION_TABLES = (
    "reviews",
    "flags",
    "learning_needs",
    "learning_need_events",
    "resources",
    "audit_events",
    "reputation_events",
    "topic_reputation",
)


def count_rows(db: Database, tables: tuple[str, ...] = VALIDATION_TABLES) -> dict[str, int]:
    """Row counts of `tables`, to show that a refused request wrote nothing."""
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in tables
        }


def send_rejected(
    client: TestClient,
    db: Database,
    person: Person,
    method: str,
    path: str,
    *,
    tables: tuple[str, ...] = VALIDATION_TABLES,
    **kwargs: Any,
) -> Any:
    """Send a request that must be refused: a 4xx problem document, and no row of `tables`
    written. Extra `headers` are sent beside the person's token."""
    headers = {**person.headers, **kwargs.pop("headers", {})}
    before = count_rows(db, tables)
    response = client.request(method, path, headers=headers, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].startswith("/problems/")
    assert problem["status"] == response.status_code
    assert problem["title"] and problem["detail"]
    if response.status_code == 422:
        assert problem["errors"] and all(error["field"] for error in problem["errors"])
    assert count_rows(db, tables) == before
    return response


def review(
    client: TestClient, expert: Person, answer_id: int, verdict: str, **fields: Any
) -> dict[str, Any]:
    """An expert's review that must be accepted (201); returns it."""
    response = client.post(
        f"/answers/{answer_id}/reviews", json={"verdict": verdict, **fields}, headers=expert.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def reject(client: TestClient, expert: Person, answer_id: int) -> dict[str, Any]:
    return review(client, expert, answer_id, "reject", rationale="Not what the policy says.")


def flag(
    client: TestClient, person: Person, answer_id: int, reason: str = "This looks wrong."
) -> dict[str, Any]:
    response = client.post(
        f"/answers/{answer_id}/flags", json={"reason": reason}, headers=person.headers
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def thread(client: TestClient, reader: Person, question_id: int) -> dict[str, Any]:
    response = client.get(f"/questions/{question_id}", headers=reader.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def shown_answer(
    client: TestClient, reader: Person, question_id: int, answer_id: int
) -> dict[str, Any]:
    """The answer as its thread page shows it."""
    answers = thread(client, reader, question_id)["answers"]
    return dict(next(a for a in answers if a["id"] == answer_id))
