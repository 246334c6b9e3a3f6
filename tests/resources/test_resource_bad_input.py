"""Malformed signposts get a clear 4xx problem and write nothing."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, send_rejected

GOOD = {"title": "Claims manual", "url": "https://intranet.example/claims"}


@pytest.fixture
def curator(people: People) -> Person:
    return people.make("expert", topics=("claims",))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://x",
        "not a url",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "https://",
        "//intranet.example/claims",
        "",
        "https://intranet.example/" + "a" * 2_000,
    ],
    ids=lambda url: url[:40],
)
def test_resource_with_an_invalid_url_is_422(
    client: TestClient, db: Database, curator: Person, url: str
) -> None:
    response = send_rejected(
        client, db, curator, "POST", "/topics/claims/resources", json={**GOOD, "url": url}
    )
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == {"body.url"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"url": GOOD["url"]}, {"body.title"}),
        ({**GOOD, "title": ""}, {"body.title"}),
        ({**GOOD, "title": "  "}, {"body.title"}),
        ({**GOOD, "title": "t" * 201}, {"body.title"}),
        ({**GOOD, "title": 7}, {"body.title"}),
        ({"title": GOOD["title"]}, {"body.url"}),
        ({**GOOD, "url": 42}, {"body.url"}),
        ({**GOOD, "description": "d" * 2_001}, {"body.description"}),
        ({**GOOD, "topic_id": 2}, {"body.topic_id"}),
        ({**GOOD, "created_by_id": 1}, {"body.created_by_id"}),
    ],
    ids=lambda v: str(v)[:40] if isinstance(v, dict) else None,
)
def test_invalid_resource_is_422_naming_the_fields(
    client: TestClient, db: Database, curator: Person, body: dict[str, Any], expected: set[str]
) -> None:
    response = send_rejected(client, db, curator, "POST", "/topics/claims/resources", json=body)
    assert response.status_code == 422
    assert {error["field"] for error in response.json()["errors"]} == expected


def test_resource_for_an_unknown_topic_is_404(
    client: TestClient, db: Database, people: People
) -> None:
    admin = people.make("admin")
    response = send_rejected(
        client, db, admin, "POST", "/topics/no-such-topic/resources", json=GOOD
    )
    assert response.status_code == 404


def test_expert_of_another_topic_cannot_add_a_resource(
    client: TestClient, db: Database, people: People, curator: Person
) -> None:
    outsider = people.make("expert", topics=("motor",))
    response = send_rejected(client, db, outsider, "POST", "/topics/claims/resources", json=GOOD)
    assert response.status_code == 403
