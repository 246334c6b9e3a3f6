"""Caps on what one request may carry: its body (JSON and forms), its URL, and the page
size of every listing."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from app.pagination import MAX_PAGE_SIZE
from tests.factories import People, Person, count_rows, send_rejected
from tests.web.helpers import sign_in

WRITES = ("questions", "audit_events", "search_outbox")


@pytest.fixture
def everyone(people: People) -> Person:
    """One person with every role, so each listing gets past its role check."""
    people.topic("claims")
    return people.make("rep", "expert", "compliance", "admin", topics=("claims",))


def test_a_form_over_the_body_cap_is_413_as_a_page_and_writes_nothing(
    client: TestClient, db: Database, settings: Settings, everyone: Person
) -> None:
    pages = TestClient(client.app, base_url="http://testserver")
    csrf = sign_in(pages, everyone.username)
    form = {"title": "A title long enough", "topic": "claims", "csrf_token": csrf}
    before = count_rows(db, WRITES)
    response = pages.post("/ask", data={**form, "body": "b" * settings.max_body_bytes})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert f"limited to {settings.max_body_bytes} bytes" in response.text
    assert count_rows(db, WRITES) == before
    pages.close()


def test_a_url_over_the_cap_is_414_problem(
    client: TestClient, db: Database, settings: Settings, everyone: Person
) -> None:
    long_tag = "t" * settings.max_url_bytes
    response = send_rejected(
        client, db, everyone, "GET", "/questions", params={"tag": long_tag}, tables=WRITES
    )
    assert response.status_code == 414
    assert response.json()["type"] == "/problems/uri-too-long"
    write = {"title": "A title long enough", "body": "b", "topic": "claims"}
    refused = send_rejected(
        client, db, everyone, "POST", "/questions?x=" + long_tag, json=write, tables=WRITES
    )
    assert refused.status_code == 414


def test_a_url_under_the_cap_is_served(client: TestClient, everyone: Person) -> None:
    response = client.get("/questions", params={"tag": "t" * 1000}, headers=everyone.headers)
    assert response.status_code == 422  # a tag's own limit, not the URL's
    assert response.json()["errors"][0]["field"] == "query.tag"


def test_a_page_url_over_the_cap_is_414_as_a_page(
    client: TestClient, settings: Settings, everyone: Person
) -> None:
    pages = TestClient(client.app, base_url="http://testserver")
    sign_in(pages, everyone.username)
    response = pages.get("/search", params={"q": "q" * settings.max_url_bytes})
    assert response.status_code == 414
    assert response.headers["content-type"].startswith("text/html")
    assert "URL too long" in response.text
    pages.close()


def listings(client: TestClient) -> list[str]:
    """Every API path whose GET takes a page size (`limit` or `per_page`)."""
    found = []
    for path, operations in client.app.openapi()["paths"].items():  # type: ignore[attr-defined]
        get = operations.get("get", {})
        names = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
        if names & {"limit", "per_page"}:
            found.append(path)
    return found


def test_every_listing_declares_a_page_size_of_at_most_100(client: TestClient) -> None:
    paths = listings(client)
    assert len(paths) >= 10  # questions, users, topics, notifications, search, ...
    for path in paths:
        params = client.app.openapi()["paths"][path]["get"]["parameters"]  # type: ignore[attr-defined]
        [size] = [p for p in params if p["name"] in ("limit", "per_page")]
        assert size["schema"]["maximum"] <= MAX_PAGE_SIZE, path


def test_every_listing_refuses_a_page_over_the_cap_naming_the_field(
    client: TestClient, db: Database, everyone: Person
) -> None:
    for path in listings(client):
        concrete = re.sub(r"\{[^}]+\}", "1", path.removeprefix("/api/v1"))
        params: dict[str, Any] = {"limit": MAX_PAGE_SIZE + 1}
        if concrete == "/digest":
            params["since"] = "2026-01-01"
        response = send_rejected(client, db, everyone, "GET", concrete, params=params)
        assert response.status_code == 422, (path, response.text)
        assert "query.limit" in {e["field"] for e in response.json()["errors"]}, path


def test_a_page_size_at_the_cap_is_served(client: TestClient, everyone: Person) -> None:
    response = client.get("/questions", params={"limit": MAX_PAGE_SIZE}, headers=everyone.headers)
    assert response.status_code == 200


def test_a_web_page_size_over_the_cap_is_a_page_not_json(
    client: TestClient, everyone: Person
) -> None:
    pages = TestClient(client.app, base_url="http://testserver")
    sign_in(pages, everyone.username)
    response = pages.get("/digest", params={"limit": MAX_PAGE_SIZE + 1})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    pages.close()
