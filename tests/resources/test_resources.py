"""Signposts: experts of a topic and admins curate reliable sources, shown with its threads."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import People, Person, ask, thread


def add(client: TestClient, curator: Person, topic: str, title: str, **fields: Any) -> Any:
    body = {"title": title, "url": f"https://intranet.example/{title.lower()}", **fields}
    response = client.post(f"/topics/{topic}/resources", json=body, headers=curator.headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("curator", ["expert", "admin"])
def test_expert_of_the_topic_and_admin_add_resources(
    client: TestClient, people: People, curator: str
) -> None:
    topic = people.topic("claims")
    who = people.make(curator, topics=(topic,) if curator == "expert" else ())

    created = add(client, who, topic, "Manual", description="The claims handbook.")

    assert (created["title"], created["url"], created["description"]) == (
        "Manual",
        "https://intranet.example/manual",
        "The claims handbook.",
    )
    listed = client.get(f"/topics/{topic}/resources", headers=people.make("rep").headers).json()
    assert [r["id"] for r in listed["items"]] == [created["id"]]


def test_resources_are_listed_oldest_first_in_pages(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims", "motor"))
    reader = people.make("rep")
    titles = [f"Guide{n}" for n in range(5)]
    for title in titles[:3]:
        add(client, expert, "claims", title)
    add(client, expert, "motor", "Elsewhere")
    for title in titles[3:]:
        add(client, expert, "claims", title)

    seen: list[str] = []
    params: dict[str, Any] = {"limit": 2}
    pages = 0
    while True:
        page = client.get("/topics/claims/resources", params=params, headers=reader.headers)
        assert page.status_code == 200
        body = page.json()
        assert len(body["items"]) <= 2
        seen += [r["title"] for r in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    assert seen == titles
    assert pages == 3


def test_thread_view_shows_the_resources_of_its_topic(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("claims", "motor"))
    admin, rep = people.make("admin"), people.make("rep")
    add(client, expert, "claims", "Manual")
    add(client, admin, "claims", "Regulations")
    add(client, expert, "motor", "Garage")
    question = ask(client, rep, "claims")["id"]

    shown = thread(client, rep, question)["resources"]

    assert [(r["title"], r["url"]) for r in shown] == [
        ("Manual", "https://intranet.example/manual"),
        ("Regulations", "https://intranet.example/regulations"),
    ]


def test_thread_in_a_topic_without_resources_shows_none(client: TestClient, people: People) -> None:
    expert = people.make("expert", topics=("motor",))
    add(client, expert, "motor", "Garage")
    rep = people.make("rep")
    assert thread(client, rep, ask(client, rep, people.topic("claims"))["id"])["resources"] == []


def test_resources_of_an_unknown_topic_are_404(client: TestClient, people: People) -> None:
    response = client.get("/topics/no-such-topic/resources", headers=people.make("rep").headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
