"""Every route by every role (and anonymous) answers as the spec's permission table says.

A route added to the API without an entry in ROUTES makes
`test_every_route_has_a_permission_entry` fail, so nothing escapes the matrix.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.models import ApiToken
from app.db import session_scope, utcnow
from app.notifications.models import Delivery, Webhook
from app.topics.models import Topic
from tests.factories import People, Person, answer, ask, open_thread_signal

ROLES = ("rep", "expert", "compliance", "admin")
ALL = frozenset(ROLES)
CONTRIBUTORS = frozenset({"rep", "expert", "admin"})
ADMIN = frozenset({"admin"})
EXPERT = frozenset({"expert"})  # an expert of the topic concerned
PUBLIC = None  # no authentication at all


@dataclass
class World:
    """A topic, one person per role, and for each contributor a question and answer of their own."""

    people: dict[str, Person]
    other: Person  # a rep whose content nobody in `people` owns
    questions: dict[str, int]
    answers: dict[str, int]
    others_question: int
    others_answer: int
    needs: dict[str, int]  # an open learning need per role, on distinct threads
    webhook: int  # a webhook of the topic
    dead_delivery: int  # an email that failed for good
    tokens: dict[str, int]  # a live personal access token per role (and one for anonymous)

    def own_question(self, role: str) -> int:
        return self.questions.get(role, self.others_question)

    def own_answer(self, role: str) -> int:
        return self.answers.get(role, self.others_answer)


Request = tuple[str, dict[str, Any] | None]


@dataclass(frozen=True)
class Route:
    allowed: frozenset[str] | None
    build: Callable[[World, str], Request]


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/healthz"): Route(PUBLIC, lambda w, r: ("/healthz", None)),
    ("GET", "/readyz"): Route(PUBLIC, lambda w, r: ("/readyz", None)),
    ("POST", "/auth/token"): Route(
        PUBLIC,
        lambda w, r: (
            "/auth/token",
            {"username": w.other.username, "password": "correct horse battery"},
        ),
    ),
    ("POST", "/auth/logout"): Route(ALL, lambda w, r: ("/auth/logout", None)),
    ("GET", "/auth/tokens"): Route(ALL, lambda w, r: ("/auth/tokens", None)),
    ("POST", "/auth/tokens"): Route(
        ALL, lambda w, r: ("/auth/tokens", {"name": f"script of {r}", "expires_in_days": 7})
    ),
    ("DELETE", "/auth/tokens/{token_id}"): Route(
        ALL, lambda w, r: (f"/auth/tokens/{w.tokens[r]}", None)
    ),
    ("GET", "/me"): Route(ALL, lambda w, r: ("/me", None)),
    ("GET", "/notifications"): Route(ALL, lambda w, r: ("/notifications", None)),
    ("POST", "/notifications/read"): Route(
        ALL, lambda w, r: ("/notifications/read", {"all": True})
    ),
    ("GET", "/me/notification-settings"): Route(
        ALL, lambda w, r: ("/me/notification-settings", None)
    ),
    ("PUT", "/me/notification-settings"): Route(
        ALL,
        lambda w, r: (
            "/me/notification-settings",
            {"settings": [{"kind": "question.new", "channel": "email", "frequency": "never"}]},
        ),
    ),
    ("GET", "/webhooks"): Route(ADMIN, lambda w, r: ("/webhooks", None)),
    ("POST", "/webhooks"): Route(
        ADMIN, lambda w, r: ("/webhooks", {"topic": "claims", "url": f"http://127.0.0.1:9/{r}"})
    ),
    ("DELETE", "/webhooks/{webhook_id}"): Route(
        ADMIN, lambda w, r: (f"/webhooks/{w.webhook}", None)
    ),
    ("GET", "/notification-deliveries"): Route(
        ADMIN, lambda w, r: ("/notification-deliveries", None)
    ),
    ("POST", "/notification-deliveries/{delivery_id}/retry"): Route(
        ADMIN, lambda w, r: (f"/notification-deliveries/{w.dead_delivery}/retry", None)
    ),
    ("GET", "/users"): Route(ADMIN, lambda w, r: ("/users", None)),
    ("POST", "/users"): Route(
        ADMIN,
        lambda w, r: (
            "/users",
            {
                "username": f"new-{r}",
                "display_name": "New",
                "password": "a-long-password",
                "roles": ["rep"],
            },
        ),
    ),
    ("PATCH", "/users/{user_id}"): Route(
        ADMIN, lambda w, r: (f"/users/{w.other.id}", {"display_name": f"Renamed by {r}"})
    ),
    ("GET", "/topics"): Route(ALL, lambda w, r: ("/topics", None)),
    ("POST", "/topics"): Route(ADMIN, lambda w, r: ("/topics", {"slug": f"t-{r}", "name": "T"})),
    ("PATCH", "/topics/{slug}"): Route(
        ADMIN, lambda w, r: ("/topics/claims", {"description": f"set by {r}"})
    ),
    ("POST", "/questions"): Route(
        CONTRIBUTORS,
        lambda w, r: (
            "/questions",
            {"title": "A question long enough", "body": "Body.", "topic": "claims"},
        ),
    ),
    ("GET", "/questions"): Route(ALL, lambda w, r: ("/questions", None)),
    ("GET", "/questions/{question_id}"): Route(
        ALL, lambda w, r: (f"/questions/{w.others_question}", None)
    ),
    ("PATCH", "/questions/{question_id}"): Route(
        CONTRIBUTORS, lambda w, r: (f"/questions/{w.own_question(r)}", {"body": f"Edited by {r}."})
    ),
    ("DELETE", "/questions/{question_id}"): Route(
        CONTRIBUTORS, lambda w, r: (f"/questions/{w.own_question(r)}", None)
    ),
    ("GET", "/questions/{question_id}/revisions"): Route(
        ALL, lambda w, r: (f"/questions/{w.others_question}/revisions", None)
    ),
    ("POST", "/questions/{question_id}/answers"): Route(
        CONTRIBUTORS,
        lambda w, r: (f"/questions/{w.others_question}/answers", {"body": "An answer."}),
    ),
    ("POST", "/questions/{question_id}/comments"): Route(
        CONTRIBUTORS,
        lambda w, r: (f"/questions/{w.others_question}/comments", {"body": "A comment."}),
    ),
    ("PATCH", "/answers/{answer_id}"): Route(
        CONTRIBUTORS, lambda w, r: (f"/answers/{w.own_answer(r)}", {"body": f"Edited by {r}."})
    ),
    ("DELETE", "/answers/{answer_id}"): Route(
        CONTRIBUTORS, lambda w, r: (f"/answers/{w.own_answer(r)}", None)
    ),
    ("GET", "/answers/{answer_id}/revisions"): Route(
        ALL, lambda w, r: (f"/answers/{w.others_answer}/revisions", None)
    ),
    ("POST", "/answers/{answer_id}/votes"): Route(
        CONTRIBUTORS, lambda w, r: (f"/answers/{w.others_answer}/votes", {"value": 1})
    ),
    ("POST", "/answers/{answer_id}/comments"): Route(
        CONTRIBUTORS, lambda w, r: (f"/answers/{w.others_answer}/comments", {"body": "A comment."})
    ),
    ("GET", "/search"): Route(ALL, lambda w, r: ("/search?q=lapsed+policy&topic=claims", None)),
    ("GET", "/questions/similar"): Route(
        ALL, lambda w, r: ("/questions/similar?title=lapsed+policy", None)
    ),
    ("POST", "/answers/{answer_id}/reviews"): Route(
        EXPERT, lambda w, r: (f"/answers/{w.others_answer}/reviews", {"verdict": "endorse"})
    ),
    ("POST", "/answers/{answer_id}/flags"): Route(
        CONTRIBUTORS,
        lambda w, r: (f"/answers/{w.others_answer}/flags", {"reason": "Looks out of date."}),
    ),
    ("GET", "/reviews/queue"): Route(EXPERT, lambda w, r: ("/reviews/queue", None)),
    ("GET", "/learning-needs"): Route(ALL, lambda w, r: ("/learning-needs", None)),
    ("POST", "/learning-needs/{need_id}/acknowledge"): Route(
        EXPERT | ADMIN,
        lambda w, r: (f"/learning-needs/{w.needs[r]}/acknowledge", {"note": "Seen."}),
    ),
    ("POST", "/learning-needs/{need_id}/address"): Route(
        EXPERT | ADMIN,
        lambda w, r: (f"/learning-needs/{w.needs[r]}/address", {"note": "Training booked."}),
    ),
    ("GET", "/topics/{slug}/resources"): Route(
        ALL, lambda w, r: ("/topics/claims/resources", None)
    ),
    ("POST", "/topics/{slug}/resources"): Route(
        EXPERT | ADMIN,
        lambda w, r: (
            "/topics/claims/resources",
            {"title": "Claims manual", "url": "https://intranet.example/claims"},
        ),
    ),
    ("GET", "/leaderboard"): Route(ALL, lambda w, r: ("/leaderboard", None)),
    ("GET", "/digest"): Route(ALL, lambda w, r: ("/digest", None)),
    ("GET", "/audit/events"): Route(
        frozenset({"compliance"}), lambda w, r: ("/audit/events", None)
    ),
    ("GET", "/audit/verify"): Route(
        frozenset({"compliance"}), lambda w, r: ("/audit/verify", None)
    ),
    ("GET", "/audit/checkpoint"): Route(
        frozenset({"compliance"}), lambda w, r: ("/audit/checkpoint", None)
    ),
    ("GET", "/audit/records/{target_type}/{target_id}"): Route(
        frozenset({"compliance"}), lambda w, r: (f"/audit/records/answer/{w.others_answer}", None)
    ),
}


def api_routes(client: TestClient) -> set[tuple[str, str]]:
    schema = client.get("http://testserver/openapi.json").json()
    prefix = "/api/v1"
    return {
        (method.upper(), path.removeprefix(prefix))
        for path, operations in schema["paths"].items()
        for method in operations
    }


def build_world(client: TestClient, people: People) -> World:
    people.topic("claims")
    cast = {
        role: people.make(role, topics=("claims",) if role == "expert" else ()) for role in ROLES
    }
    other = people.make("rep", username="other-rep")
    others_question = ask(client, other, "claims")["id"]
    others_answer = answer(client, other, others_question)["id"]
    questions = {r: ask(client, cast[r], "claims")["id"] for r in CONTRIBUTORS}
    answers = {r: answer(client, cast[r], others_question)["id"] for r in CONTRIBUTORS}
    threads = {**questions, "compliance": others_question}
    needs = {role: open_thread_signal(people.db, q) for role, q in threads.items()}
    needs["anonymous"] = needs["compliance"]
    with session_scope(people.db) as session:
        topic = session.execute(select(Topic).where(Topic.slug == "claims")).scalar_one()
        webhook = Webhook(
            topic_id=topic.id,
            url="http://127.0.0.1:9/hook",
            format="slack",
            secret="s" * 64,
            created_by=cast["admin"].id,
        )
        dead = Delivery(
            key="email:permissions",
            channel="email",
            kind="question.new",
            user_id=other.id,
            status="dead",
            attempts=8,
        )
        personal = {
            role: ApiToken(
                user_id=person.id,
                token_hash=secrets.token_hex(32),
                expires_at=utcnow() + timedelta(days=1),
                name=f"script of {role}",
            )
            for role, person in (*cast.items(), ("anonymous", other))
        }
        session.add_all([webhook, dead, *personal.values()])
        session.flush()
        webhook_id, dead_id = webhook.id, dead.id
        tokens = {role: token.id for role, token in personal.items()}
    return World(
        cast,
        other,
        questions,
        answers,
        others_question,
        others_answer,
        needs,
        webhook_id,
        dead_id,
        tokens,
    )


def test_every_route_has_a_permission_entry(client: TestClient) -> None:
    routes = api_routes(client)
    assert routes - set(ROUTES) == set(), "routes missing from the permission matrix"
    assert set(ROUTES) - routes == set(), "matrix entries for routes that no longer exist"


# Routes that need a real Meilisearch (see the `search` marker in tests/conftest.py).
SEARCH_ROUTES = {("GET", "/search"), ("GET", "/questions/similar")}
ROUTES_SORTED = sorted(ROUTES)


@pytest.mark.parametrize(
    "route_key",
    [pytest.param(k, marks=pytest.mark.search) if k in SEARCH_ROUTES else k for k in ROUTES_SORTED],
    ids=lambda k: f"{k[0]} {k[1]}",
)
def test_route_answers_each_role_as_the_table_says(
    client: TestClient, people: People, route_key: tuple[str, str]
) -> None:
    method, _ = route_key
    route = ROUTES[route_key]
    world = build_world(client, people)
    outcomes = {}
    for role in (None, *ROLES):
        path, body = route.build(world, role or "anonymous")
        headers = world.people[role].headers if role else {}
        response = client.request(method, path, json=body, headers=headers)
        outcomes[role or "anonymous"] = response.status_code

    expected = {}
    for role in ("anonymous", *ROLES):
        if route.allowed is PUBLIC:
            expected[role] = "2xx"
        elif role == "anonymous":
            expected[role] = 401
        else:
            expected[role] = "2xx" if role in route.allowed else 403
    actual = {role: "2xx" if 200 <= code < 300 else code for role, code in outcomes.items()}
    assert actual == expected
