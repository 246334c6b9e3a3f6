"""Small helpers for search tests: drain the outbox, set a validation state, search."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.outbox.service import enqueue_thread
from search.client import make_client
from search.relay import OutboxRelay
from tests.factories import Person


def drain(db: Database, settings: Settings) -> int:
    """Send every due outbox row to Meilisearch, waiting for each task; returns rows sent."""
    return OutboxRelay(db, settings, make_client(settings)).drain()


def set_state(db: Database, answer_id: int, state: str, correction: str | None = None) -> None:
    """What the reviews service does to an answer, without going through reviews."""
    with session_scope(db) as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        session.execute(
            update(Answer)
            .where(Answer.id == answer_id)
            .values(state=state, correction=correction, validated_at=utcnow())
        )
        enqueue_thread(session, answer.question_id)


def search(client: TestClient, person: Person, **params: Any) -> dict[str, Any]:
    response = client.get("/search", params=params, headers=person.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def hit_ids(result: dict[str, Any]) -> list[int]:
    return [hit["id"] for hit in result["hits"]]
