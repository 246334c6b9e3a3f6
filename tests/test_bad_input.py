"""Malformed requests get a clear 4xx problem, never a 5xx, and write nothing."""

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.db import Database
from tests.factories import People, Person, answer, ask, send_rejected

COUNTED_TABLES = ("audit_events", "questions", "answers", "users", "topics", "comments", "votes")
QUESTION = {"title": "A perfectly good title", "body": "Some details.", "topic": "claims"}
NEW_USER = {
    "username": "newcomer",
    "display_name": "N",
    "password": "long enough!",
    "roles": ["rep"],
}


@dataclass
class World:
    """A rep's question, answered by a helper, and an admin; `ids` fill in path templates."""

    people: dict[str, Person]
    ids: dict[str, int]


@pytest.fixture
def world(client: TestClient, people: People) -> World:
    rep, helper, admin = people.make("rep"), people.make("rep"), people.make("admin")
    question = ask(client, rep, people.topic("claims"))
    reply = answer(client, helper, question["id"])
    return World(
        people={"rep": rep, "helper": helper, "admin": admin},
        ids={"q": question["id"], "a": reply["id"], "u": rep.id},
    )


def send(
    client: TestClient,
    db: Database,
    world: World,
    method: str,
    path: str,
    who: str = "rep",
    **kwargs: Any,
) -> httpx.Response:
    """Send the request as `who`; check that it is a 4xx problem and wrote nothing."""
    return send_rejected(
        client,
        db,
        world.people[who],
        method,
        path.format(**world.ids),
        tables=COUNTED_TABLES,
        **kwargs,
    )


def fields(response: httpx.Response) -> set[str]:
    return {error["field"] for error in response.json()["errors"]}


def readable(value: Any) -> str | None:
    """Test ids: a body shows only what differs from a valid one; fields are listed."""
    if isinstance(value, set):
        return ",".join(sorted(value))
    if isinstance(value, dict):
        valid = {**QUESTION, **NEW_USER}
        shown = json.dumps({k: v for k, v in value.items() if k not in valid or valid[k] != v})
        return shown if len(shown) <= 40 else shown[:37] + "..."
    return None


BODY_CASES = [
    # wrong types
    ("POST", "/questions", {**QUESTION, "title": 123}, {"body.title"}),
    ("POST", "/questions", {**QUESTION, "body": ["x"]}, {"body.body"}),
    ("POST", "/questions", {**QUESTION, "topic": 7}, {"body.topic"}),
    ("POST", "/questions", {**QUESTION, "tags": "motor"}, {"body.tags"}),
    ("POST", "/questions", {**QUESTION, "tags": [1]}, {"body.tags.0"}),
    ("POST", "/questions", {**QUESTION, "tags": None}, {"body.tags"}),
    ("POST", "/questions/{q}/answers", {"body": 5}, {"body.body"}),
    ("POST", "/questions/{q}/comments", {"body": {"text": "hi"}}, {"body.body"}),
    # missing fields
    ("POST", "/questions", {}, {"body.title", "body.body", "body.topic"}),
    ("POST", "/questions", {"body": "Some details.", "topic": "claims"}, {"body.title"}),
    ("POST", "/questions/{q}/answers", {}, {"body.body"}),
    ("POST", "/answers/{a}/votes", {}, {"body.value"}),
    ("POST", "/auth/token", {"username": "someone"}, {"body.password"}),
    # unknown and privileged fields
    ("POST", "/questions", {**QUESTION, "author_id": 1}, {"body.author_id"}),
    ("POST", "/questions", {**QUESTION, "roles": ["admin"]}, {"body.roles"}),
    ("POST", "/questions", {**QUESTION, "status": "resolved"}, {"body.status"}),
    ("PATCH", "/questions/{q}", {"status": "closed"}, {"body.status"}),
    ("PATCH", "/questions/{q}", {"author_id": 2}, {"body.author_id"}),
    ("POST", "/questions/{q}/answers", {"body": "b", "state": "endorsed"}, {"body.state"}),
    ("PATCH", "/answers/{a}", {"body": "b", "state": "endorsed"}, {"body.state"}),
    ("PATCH", "/answers/{a}", {"body": "b", "score": 99}, {"body.score"}),
    ("POST", "/answers/{a}/votes", {"value": 1, "user_id": 1}, {"body.user_id"}),
    # lengths and shapes
    ("POST", "/questions", {**QUESTION, "title": "abc"}, {"body.title"}),
    ("POST", "/questions", {**QUESTION, "title": "t" * 300}, {"body.title"}),
    ("POST", "/questions", {**QUESTION, "title": " " * 20}, {"body.title"}),
    ("PATCH", "/questions/{q}", {"title": "abc"}, {"body.title"}),
    ("POST", "/questions", {**QUESTION, "body": "b" * 20_001}, {"body.body"}),
    ("POST", "/questions", {**QUESTION, "body": ""}, {"body.body"}),
    ("POST", "/questions/{q}/answers", {"body": "b" * 20_001}, {"body.body"}),
    ("POST", "/questions", {**QUESTION, "tags": list("abcdef")}, {"body.tags"}),
    ("PATCH", "/questions/{q}", {"tags": list("abcdef")}, {"body.tags"}),
    ("POST", "/questions", {**QUESTION, "tags": ["Motor"]}, {"body.tags.0"}),
    ("POST", "/questions", {**QUESTION, "tags": ["motor", "motor"]}, {"body.tags"}),
    ("POST", "/questions", {**QUESTION, "topic": "no-such-topic"}, {"body.topic"}),
    ("POST", "/questions", {**QUESTION, "topic": "Claims"}, {"body.topic"}),
    # votes are exactly 1 or -1
    ("POST", "/answers/{a}/votes", {"value": 2}, {"body.value"}),
    ("POST", "/answers/{a}/votes", {"value": "1"}, {"body.value"}),
    ("POST", "/answers/{a}/votes", {"value": 0}, {"body.value"}),
    ("POST", "/answers/{a}/votes", {"value": True}, {"body.value"}),
    ("POST", "/answers/{a}/votes", {"value": 1.5}, {"body.value"}),
    ("POST", "/answers/{a}/votes", {"value": None}, {"body.value"}),
    # comments
    ("POST", "/questions/{q}/comments", {"body": ""}, {"body.body"}),
    ("POST", "/answers/{a}/comments", {"body": "   "}, {"body.body"}),
    ("POST", "/answers/{a}/comments", {"body": "c" * 5_001}, {"body.body"}),
    # The cap counts the text as sent, before its surrounding whitespace is trimmed.
    ("POST", "/answers/{a}/comments", {"body": "\u00a0" + "c" * 5_000}, {"body.body"}),
    ("POST", "/questions", {**QUESTION, "title": " " + "t" * 200}, {"body.title"}),
    # NUL characters, which PostgreSQL text cannot store
    ("POST", "/questions", {**QUESTION, "title": "A title with \x00 NUL"}, {"body.title"}),
    ("POST", "/questions/{q}/answers", {"body": "nul \x00"}, {"body.body"}),
    ("POST", "/questions/{q}/comments", {"body": "\x00"}, {"body.body"}),
    ("POST", "/auth/token", {"username": "rep\x00", "password": "whatever"}, {"body.username"}),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), BODY_CASES, ids=readable)
def test_invalid_body_is_422_naming_the_fields_and_writes_nothing(
    client: TestClient,
    db: Database,
    world: World,
    method: str,
    path: str,
    body: dict[str, Any],
    expected: set[str],
) -> None:
    # Answer edits are the helper's own, so only the body can be at fault.
    who = "helper" if path.startswith("/answers/{a}") and method == "PATCH" else "rep"
    response = send(client, db, world, method, path, who, json=body)
    assert response.status_code == 422
    assert response.json()["type"].endswith("/validation-error")
    assert fields(response) == expected


ADMIN_BODY_CASES = [
    ("POST", "/users", {**NEW_USER, "roles": ["superuser"]}, {"body.roles.0"}),
    ("POST", "/users", {**NEW_USER, "roles": []}, {"body.roles"}),
    ("POST", "/users", {**NEW_USER, "password": "short"}, {"body.password"}),
    ("POST", "/users", {**NEW_USER, "password": "eleven char"}, {"body.password"}),
    ("POST", "/users", {**NEW_USER, "password": "I am NewComer!"}, {"body.password"}),
    ("POST", "/users", {**NEW_USER, "password": "PeanutButter"}, {"body.password"}),
    ("POST", "/users", {**NEW_USER, "password": "p" * 257}, {"body.password"}),
    ("POST", "/users", {**NEW_USER, "username": "Bad Name"}, {"body.username"}),
    ("POST", "/users", {**NEW_USER, "reputation": 1000}, {"body.reputation"}),
    ("PATCH", "/users/{u}", {"roles": "admin"}, {"body.roles"}),
    ("PATCH", "/users/{u}", {"password": "new password!"}, {"body.password"}),
    ("PATCH", "/users/{u}", {"active": "maybe"}, {"body.active"}),
    ("PATCH", "/users/{u}", {"active": 0}, {"body.active"}),
    ("PATCH", "/users/{u}", {"active": "false"}, {"body.active"}),
    ("POST", "/topics", {"slug": "Bad Slug", "name": "Bad"}, {"body.slug"}),
    (
        "POST",
        "/topics",
        {"slug": "ok", "name": "Ok", "required_endorsements": 0},
        {"body.required_endorsements"},
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "expected"), ADMIN_BODY_CASES, ids=readable)
def test_invalid_admin_body_is_422_naming_the_fields_and_writes_nothing(
    client: TestClient,
    db: Database,
    world: World,
    method: str,
    path: str,
    body: dict[str, Any],
    expected: set[str],
) -> None:
    response = send(client, db, world, method, path, "admin", json=body)
    assert response.status_code == 422
    assert fields(response) == expected


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "bm90LWpzb24",
        "",
        cursor_of([1]),
        cursor_of({"after": -1}),
        cursor_of({"after": "5"}),
        cursor_of({"after": True}),
        cursor_of({"after": 10**20}),
    ],
)
@pytest.mark.parametrize(
    ("path", "who"),
    [
        ("/questions", "rep"),
        ("/questions/{q}/revisions", "rep"),
        ("/answers/{a}/revisions", "rep"),
        ("/topics", "rep"),
        ("/users", "admin"),
    ],
)
def test_garbage_cursor_is_400_invalid_cursor(
    client: TestClient, db: Database, world: World, path: str, who: str, cursor: str
) -> None:
    response = send(client, db, world, "GET", path, who, params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["type"].endswith("/invalid-cursor")


@pytest.mark.parametrize("limit", ["0", "-1", "101", "99999999999999999999", "ten", "1.5"])
@pytest.mark.parametrize(("path", "who"), [("/questions", "rep"), ("/users", "admin")])
def test_page_size_out_of_range_is_422_naming_limit(
    client: TestClient, db: Database, world: World, path: str, who: str, limit: str
) -> None:
    response = send(client, db, world, "GET", path, who, params={"limit": limit})
    assert response.status_code == 422
    assert fields(response) == {"query.limit"}


def test_unknown_status_filter_is_422(client: TestClient, db: Database, world: World) -> None:
    response = send(client, db, world, "GET", "/questions", params={"status": "pending"})
    assert fields(response) == {"query.status"}


@pytest.mark.parametrize("bad_id", ["0", "-1", "99999999999999999999", "2147483648", "abc", "1.5"])
@pytest.mark.parametrize(
    ("method", "path", "param", "body"),
    [
        ("GET", "/questions/{id}", "path.question_id", None),
        ("DELETE", "/questions/{id}", "path.question_id", None),
        ("GET", "/questions/{id}/revisions", "path.question_id", None),
        ("POST", "/questions/{id}/answers", "path.question_id", {"body": "An answer."}),
        ("PATCH", "/answers/{id}", "path.answer_id", {"body": "An answer."}),
        ("POST", "/answers/{id}/votes", "path.answer_id", {"value": 1}),
    ],
)
def test_bad_id_in_path_is_422_naming_it(
    client: TestClient,
    db: Database,
    world: World,
    method: str,
    path: str,
    param: str,
    body: dict[str, Any] | None,
    bad_id: str,
) -> None:
    url = path.replace("{id}", bad_id)
    response = send(client, db, world, method, url, json=body)
    assert response.status_code == 422
    assert fields(response) == {param}


def test_user_id_out_of_range_is_422(client: TestClient, db: Database, world: World) -> None:
    response = send(client, db, world, "PATCH", "/users/0", "admin", json={"display_name": "X"})
    assert fields(response) == {"path.user_id"}


@pytest.mark.parametrize(
    "raw",
    [b'{"title": ', b"{'title': 'single quotes'}", b"\xff\xfe", b'{"title": "a"} trailing'],
    ids=["truncated", "single-quotes", "not-utf8", "trailing-garbage"],
)
def test_invalid_json_is_422_problem(
    client: TestClient, db: Database, world: World, raw: bytes
) -> None:
    headers = {"content-type": "application/json"}
    response = send(client, db, world, "POST", "/questions", content=raw, headers=headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "document", [[QUESTION], "a string", 42, None], ids=["array", "string", "number", "null"]
)
def test_json_that_is_not_an_object_is_422(
    client: TestClient, db: Database, world: World, document: Any
) -> None:
    response = send(client, db, world, "POST", "/questions", json=document)
    assert response.status_code == 422


def test_missing_body_is_422(client: TestClient, db: Database, world: World) -> None:
    response = send(client, db, world, "POST", "/questions/{q}/answers")
    assert fields(response) == {"body"}


def test_absurdly_nested_json_is_a_4xx_problem(
    client: TestClient, db: Database, world: World
) -> None:
    headers = {"content-type": "application/json"}
    send(client, db, world, "POST", "/questions", content=b"[" * 100_000, headers=headers)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"content": json.dumps(QUESTION).encode(), "headers": {"content-type": "text/plain"}},
        {"data": QUESTION},
        {"files": {"file": ("q.json", json.dumps(QUESTION).encode(), "application/json")}},
        {"content": json.dumps(QUESTION).encode(), "headers": {"content-type": ""}},
    ],
    ids=["text-plain", "form-encoded", "multipart", "no-content-type"],
)
def test_body_that_is_not_json_is_415(
    client: TestClient, db: Database, world: World, kwargs: dict[str, Any]
) -> None:
    response = send(client, db, world, "POST", "/questions", **kwargs)
    assert response.status_code == 415
    assert response.json()["type"].endswith("/unsupported-media-type")


def over_the_cap(settings: Settings) -> bytes:
    return json.dumps({**QUESTION, "body": "b" * settings.max_body_bytes}).encode()


def test_body_over_the_cap_is_413(
    client: TestClient, db: Database, world: World, settings: Settings
) -> None:
    response = send(
        client,
        db,
        world,
        "POST",
        "/questions",
        content=over_the_cap(settings),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")


def test_streamed_body_over_the_cap_is_413(
    client: TestClient, db: Database, world: World, settings: Settings
) -> None:
    payload = over_the_cap(settings)

    def chunks() -> Iterator[bytes]:
        # No Content-Length: the cap must hold while the body is read.
        for start in range(0, len(payload), 16_384):
            yield payload[start : start + 16_384]

    response = send(
        client,
        db,
        world,
        "POST",
        "/questions",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")


@pytest.mark.parametrize(
    ("method", "path", "who", "body"),
    [
        ("GET", "/questions?tag=mo%00tor", "rep", None),
        ("GET", "/questions?author=%00", "rep", None),
        ("GET", "/questions?topic=claims%00", "rep", None),
        ("PATCH", "/topics/claims%00", "admin", {"name": "Claims"}),
    ],
)
def test_nul_character_in_the_url_is_400(
    client: TestClient,
    db: Database,
    world: World,
    method: str,
    path: str,
    who: str,
    body: dict[str, Any] | None,
) -> None:
    response = send(client, db, world, method, path, who, json=body)
    assert response.status_code == 400


def test_a_method_a_path_does_not_take_is_405_naming_every_method_it_does(
    client: TestClient, db: Database, world: World
) -> None:
    response = send(client, db, world, "PUT", "/questions/{q}", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    # `similar` is a route of its own, not a question id.
    response = send(client, db, world, "PATCH", "/questions/similar", json={})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"


@pytest.mark.parametrize("since", ["0.5", "1700000000", "-3", "1e9"])
def test_a_number_where_a_date_is_documented_is_422(
    client: TestClient, db: Database, world: World, since: str
) -> None:
    response = send(client, db, world, "GET", "/digest", params={"since": since})
    assert response.status_code == 422
    assert fields(response) == {"query.since"}


@pytest.mark.parametrize("title", ["Line one\nline two", "Tab\tin the title", "Bell \x07 rings"])
def test_a_title_on_more_than_one_line_is_422(
    client: TestClient, db: Database, world: World, title: str
) -> None:
    body = {"title": title, "body": "Details.", "topic": "claims"}
    response = send(client, db, world, "POST", "/questions", json=body)
    assert response.status_code == 422
    assert fields(response) == {"body.title"}
