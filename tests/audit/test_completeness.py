"""Every state-changing route writes exactly one audit event with the right action, in the
request's own transaction; a refused or invalid request writes none.

EXPECTED names the action of each state-changing route (POST, PUT, PATCH, DELETE, plus the
export, a GET that audits itself). A route added to the API that changes state without an
entry here makes `test_every_state_changing_route_has_an_expected_action` fail: add its
action here, next to its entry in `tests/test_permissions.py` ROUTES, which says how to call
it. The one 4xx that does write an event is a wrong password (`auth.login`, outcome
`failure`): see `test_audit_chain.py`.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.audit.actions import ACTIONS
from app.audit.models import AuditEvent
from app.db import Database
from app.errors import Conflict
from app.questions import router as questions_router
from app.questions.models import Question
from tests.factories import People
from tests.test_permissions import PUBLIC, ROLES, ROUTES, Route, api_routes, build_world

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

EXPECTED: dict[tuple[str, str], str] = {
    ("POST", "/auth/token"): "auth.login",
    ("POST", "/auth/logout"): "auth.logout",
    ("POST", "/auth/tokens"): "auth.token_create",
    ("DELETE", "/auth/tokens/{token_id}"): "auth.token_revoke",
    ("POST", "/users"): "user.create",
    ("PATCH", "/users/{user_id}"): "user.update",
    ("POST", "/topics"): "topic.create",
    ("PATCH", "/topics/{slug}"): "topic.update",
    ("POST", "/topics/{slug}/resources"): "resource.create",
    ("POST", "/questions"): "question.create",
    ("PATCH", "/questions/{question_id}"): "question.update",
    ("DELETE", "/questions/{question_id}"): "question.delete",
    ("POST", "/questions/{question_id}/answers"): "answer.create",
    ("POST", "/questions/{question_id}/comments"): "comment.create",
    ("PATCH", "/answers/{answer_id}"): "answer.update",
    ("DELETE", "/answers/{answer_id}"): "answer.delete",
    ("POST", "/answers/{answer_id}/votes"): "vote.cast",
    ("POST", "/answers/{answer_id}/comments"): "comment.create",
    ("POST", "/answers/{answer_id}/reviews"): "review.create",
    ("POST", "/answers/{answer_id}/flags"): "flag.create",
    ("POST", "/learning-needs/{need_id}/acknowledge"): "learning_need.acknowledge",
    ("POST", "/learning-needs/{need_id}/address"): "learning_need.address",
    ("GET", "/audit/events"): "audit.export",
    ("PUT", "/me/notification-settings"): "notification_settings.update",
    ("POST", "/webhooks"): "webhook.create",
    ("DELETE", "/webhooks/{webhook_id}"): "webhook.delete",
    ("POST", "/notification-deliveries/{delivery_id}/retry"): "notification_delivery.retry",
}

# State-changing routes that are not a change to the record, each with why.
UNAUDITED: dict[tuple[str, str], str] = {
    ("POST", "/notifications/read"): "a reader's own note of what they have seen",
}


def test_every_state_changing_route_has_an_expected_action(client: TestClient) -> None:
    routes = api_routes(client)
    changing = {key for key in routes if key[0] in STATE_CHANGING}
    missing = changing - set(EXPECTED) - set(UNAUDITED)
    assert missing == set(), f"state-changing routes with no expected audit action: {missing}"
    assert set(EXPECTED) - routes == set(), "expected actions for routes that no longer exist"
    assert set(EXPECTED.values()) - set(ACTIONS) == set(), "actions outside the vocabulary"


def head(db: Database) -> int:
    with db.session(write=False) as session:
        return int(session.execute(select(func.coalesce(func.max(AuditEvent.seq), 0))).scalar_one())


def events_after(db: Database, seq: int) -> list[AuditEvent]:
    with db.session(write=False) as session:
        query = select(AuditEvent).where(AuditEvent.seq > seq).order_by(AuditEvent.seq)
        return list(session.execute(query).scalars())


def _first_allowed(route: Route) -> str | None:
    if route.allowed is PUBLIC:
        return None
    return next(role for role in ROLES if role in route.allowed)


def _failures(route: Route, body: dict[str, Any] | None) -> list[tuple[str | None, Any, int]]:
    """(role, body, expected status) of requests that must fail and write nothing."""
    failures: list[tuple[str | None, Any, int]] = []
    if route.allowed is not PUBLIC:
        failures.append((None, body, 401))
        refused = [role for role in ROLES if role not in route.allowed]
        if refused:
            failures.append((refused[0], body, 403))
    if body is not None:
        failures.append((_first_allowed(route), {**body, "unexpected": 1}, 422))
    return failures


@pytest.mark.parametrize("route_key", sorted(EXPECTED), ids=lambda k: f"{k[0]} {k[1]}")
def test_route_writes_one_event_when_it_succeeds_and_none_when_it_fails(
    client: TestClient, people: People, db: Database, route_key: tuple[str, str]
) -> None:
    method, _ = route_key
    route = ROUTES[route_key]
    world = build_world(client, people)
    role = _first_allowed(route)
    path, body = route.build(world, role or "anonymous")

    def call(as_role: str | None, json: Any, request_id: str) -> int:
        headers = {"X-Request-ID": request_id}
        if as_role is not None:
            headers.update(world.people[as_role].headers)
        return client.request(method, path, json=json, headers=headers).status_code

    for as_role, json, status in _failures(route, body):
        before = head(db)
        assert call(as_role, json, "failing") == status
        assert events_after(db, before) == [], f"a {status} wrote an audit event"

    before = head(db)
    status = call(role, body, "succeeding")
    assert 200 <= status < 300
    new = events_after(db, before)
    actor = world.people[role].username if role else world.other.username  # login: who logged in
    assert [(e.action, e.outcome, e.actor_username, e.request_id) for e in new] == [
        (EXPECTED[route_key], "success", actor, "succeeding")
    ]


def test_a_request_failing_after_its_change_keeps_neither_change_nor_event(
    client: TestClient, people: People, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    rep = people.make("rep")
    topic = people.topic("claims")

    def fail_after_the_service_ran(*_args: Any) -> Any:
        raise Conflict("failing after the question and its event were written")

    monkeypatch.setattr(questions_router, "question_out", fail_after_the_service_ran)
    before = head(db)
    response = client.post(
        "/questions",
        json={"title": "A question that will not stay", "body": "Body.", "topic": topic},
        headers=rep.headers,
    )
    assert response.status_code == 409
    assert events_after(db, before) == []
    with db.session(write=False) as session:
        assert session.execute(select(func.count()).select_from(Question)).scalar_one() == 0
