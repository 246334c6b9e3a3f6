"""A thread page runs the same number of SQL queries however big the thread is."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from app.db import Database
from tests.factories import People, Person, answer, ask


@contextmanager
def counting_queries(db: Database) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _grow_thread(client: TestClient, people: list[Person], question_id: int, answers: int) -> None:
    for n in range(answers):
        author = people[n % len(people)]
        created = answer(client, author, question_id, body=f"Answer number {n}.")
        client.post(
            f"/answers/{created['id']}/comments",
            json={"body": "Noted."},
            headers=people[(n + 1) % len(people)].headers,
        )
        client.post(
            f"/questions/{question_id}/comments",
            json={"body": f"Comment {n}."},
            headers=author.headers,
        )


def _queries_for_thread(client: TestClient, db: Database, reader: Person, question_id: int) -> int:
    with counting_queries(db) as statements:
        response = client.get(f"/questions/{question_id}", headers=reader.headers)
    assert response.status_code == 200
    return len(statements)


def test_thread_page_query_count_does_not_grow_with_answers(
    client: TestClient, people: People, db: Database
) -> None:
    topic = people.topic("claims")
    authors = [people.make("rep") for _ in range(4)]
    reader = people.make("rep")
    small = ask(client, authors[0], topic)["id"]
    large = ask(client, authors[1], topic, tags=["one", "two", "three"])["id"]
    _grow_thread(client, authors, small, answers=1)
    _grow_thread(client, authors, large, answers=25)

    small_count = _queries_for_thread(client, db, reader, small)
    large_count = _queries_for_thread(client, db, reader, large)

    assert len(client.get(f"/questions/{large}", headers=reader.headers).json()["answers"]) == 25
    assert large_count == small_count
    assert small_count <= 10
