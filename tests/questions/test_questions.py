"""Asking, listing, editing and deleting questions, and reading a thread."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from app.db import Database
from tests.factories import People, Person, answer, ask

PROBLEM_JSON = "application/problem+json"


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def test_rep_asks_a_question_and_gets_it_back_with_its_tags(
    client: TestClient, people: People
) -> None:
    rep = people.make("rep")
    people.topic("claims")
    response = client.post(
        "/questions",
        json={
            "title": "Can a customer claim for a cracked windscreen?",
            "body": "They have **comprehensive** cover.",
            "topic": "claims",
            "tags": ["motor", "glass"],
        },
        headers=rep.headers,
    )
    assert response.status_code == 201, response.text
    question = response.json()
    assert isinstance(question["id"], int)
    assert question["title"] == "Can a customer claim for a cracked windscreen?"
    assert question["body"] == "They have **comprehensive** cover."
    assert question["topic"] == "claims"
    assert question["tags"] == ["motor", "glass"]
    assert question["status"] == "open"
    assert question["revision"] == 1
    assert question["author"]["username"] == rep.username
    assert question["created_at"].endswith("Z")


def test_a_question_without_tags_has_an_empty_tag_list(client: TestClient, people: People) -> None:
    question = ask(client, people.make("rep"), people.topic())
    assert question["tags"] == []


def test_compliance_may_read_questions_but_not_ask_them(client: TestClient, people: People) -> None:
    topic = people.topic()
    question = ask(client, people.make("rep"), topic)
    officer = people.make("compliance")
    assert client.get(f"/questions/{question['id']}", headers=officer.headers).status_code == 200
    response = client.post(
        "/questions",
        json={"title": "Compliance asking a question", "body": "No.", "topic": topic},
        headers=officer.headers,
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON


def test_list_filters_by_topic(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    claims = ask(client, rep, people.topic("claims"))
    ask(client, rep, people.topic("complaints"))
    assert ids(client.get("/questions?topic=claims", headers=rep.headers)) == [claims["id"]]


def test_list_filters_by_tag(client: TestClient, people: People) -> None:
    rep, topic = people.make("rep"), people.topic()
    motor = ask(client, rep, topic, tags=["motor", "glass"])
    ask(client, rep, topic, tags=["home"])
    ask(client, rep, topic)
    assert ids(client.get("/questions?tag=glass", headers=rep.headers)) == [motor["id"]]


def test_list_filters_by_author(client: TestClient, people: People) -> None:
    alice, bob, topic = people.make("rep"), people.make("rep"), people.topic()
    mine = ask(client, alice, topic)
    ask(client, bob, topic)
    listed = ids(client.get(f"/questions?author={alice.username}", headers=bob.headers))
    assert listed == [mine["id"]]


def test_list_filters_by_status(client: TestClient, people: People, db: Database) -> None:
    rep, topic = people.make("rep"), people.topic()
    still_open = ask(client, rep, topic)
    resolved = ask(client, rep, topic)
    # Reviews are what resolve a question; this test is only about the filter.
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE questions SET status = 'resolved' WHERE id = :id"), {"id": resolved["id"]}
        )
    assert ids(client.get("/questions?status=resolved", headers=rep.headers)) == [resolved["id"]]
    assert ids(client.get("/questions?status=open", headers=rep.headers)) == [still_open["id"]]
    assert ids(client.get("/questions?status=closed", headers=rep.headers)) == []


def test_filters_combine(client: TestClient, people: People) -> None:
    alice, bob = people.make("rep"), people.make("rep")
    claims, other = people.topic("claims"), people.topic("complaints")
    wanted = ask(client, alice, claims, tags=["motor"])
    ask(client, bob, claims, tags=["motor"])
    ask(client, alice, other, tags=["motor"])
    ask(client, alice, claims, tags=["home"])
    query = f"/questions?topic=claims&tag=motor&author={alice.username}&status=open"
    assert ids(client.get(query, headers=alice.headers)) == [wanted["id"]]


def test_cursor_paging_walks_every_question_once_newest_first(
    client: TestClient, people: People
) -> None:
    rep, topic = people.make("rep"), people.topic()
    asked = [ask(client, rep, topic, title=f"Question number {n:02d}")["id"] for n in range(7)]
    seen: list[int] = []
    pages = 0
    url = "/questions?limit=3"
    while True:
        page = client.get(url, headers=rep.headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        url = f"/questions?limit=3&cursor={body['next_cursor']}"
    assert pages == 3
    assert len(seen) == len(set(seen))
    assert seen == list(reversed(asked))


def test_cursor_paging_keeps_the_filter(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    claims, other = people.topic("claims"), people.topic("complaints")
    wanted = []
    for n in range(5):
        wanted.append(ask(client, rep, claims, title=f"Claims question {n}")["id"])
        ask(client, rep, other, title=f"Other question {n}")
    first = client.get("/questions?topic=claims&limit=2", headers=rep.headers).json()
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = client.get(f"/questions?topic=claims&limit=2&cursor={cursor}", headers=rep.headers)
        seen += ids(page)
        cursor = page.json()["next_cursor"]
    assert seen == list(reversed(wanted))


def test_a_full_last_page_has_no_next_cursor(client: TestClient, people: People) -> None:
    rep, topic = people.make("rep"), people.topic()
    for n in range(2):
        ask(client, rep, topic, title=f"Question number {n}")
    body = client.get("/questions?limit=2", headers=rep.headers).json()
    assert len(body["items"]) == 2
    assert body["next_cursor"] is None


def test_author_can_edit_own_question_and_revision_is_kept(
    client: TestClient, people: People
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic(), tags=["motor"])
    response = client.patch(
        f"/questions/{question['id']}",
        json={"title": "How do I handle a lapsed motor policy?", "tags": ["motor", "lapse"]},
        headers=rep.headers,
    )
    assert response.status_code == 200, response.text
    edited = response.json()
    assert edited["title"] == "How do I handle a lapsed motor policy?"
    assert edited["tags"] == ["motor", "lapse"]
    assert edited["body"] == question["body"]
    assert edited["revision"] == 2

    history = client.get(f"/questions/{question['id']}/revisions", headers=rep.headers).json()
    v1, v2 = history["items"]
    assert (v1["number"], v1["title"], v1["tags"]) == (1, question["title"], ["motor"])
    assert (v2["number"], v2["title"], v2["tags"]) == (2, edited["title"], ["motor", "lapse"])
    assert v1["editor"]["username"] == v2["editor"]["username"] == rep.username


def test_edit_that_changes_nothing_adds_no_revision(client: TestClient, people: People) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic())
    response = client.patch(
        f"/questions/{question['id']}", json={"title": question["title"]}, headers=rep.headers
    )
    assert response.json()["revision"] == 1
    history = client.get(f"/questions/{question['id']}/revisions", headers=rep.headers).json()
    assert [r["number"] for r in history["items"]] == [1]


def test_admin_may_edit_anyones_question_and_is_recorded_as_editor(
    client: TestClient, people: People
) -> None:
    rep, admin = people.make("rep"), people.make("admin")
    question = ask(client, rep, people.topic())
    response = client.patch(
        f"/questions/{question['id']}", json={"body": "Tidied by an admin."}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["author"]["username"] == rep.username
    history = client.get(f"/questions/{question['id']}/revisions", headers=rep.headers).json()
    assert history["items"][-1]["editor"]["username"] == admin.username
    assert history["items"][-1]["body"] == "Tidied by an admin."


def test_another_rep_may_not_edit_a_question(client: TestClient, people: People) -> None:
    author, intruder = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic())
    response = client.patch(
        f"/questions/{question['id']}",
        json={"title": "Hijacked question title"},
        headers=intruder.headers,
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/forbidden")
    thread = client.get(f"/questions/{question['id']}", headers=author.headers).json()
    assert thread["question"]["title"] == question["title"]


def test_an_expert_may_not_edit_someone_elses_question(client: TestClient, people: People) -> None:
    rep, expert = people.make("rep"), people.make("expert", topics=("claims",))
    question = ask(client, rep, "claims")
    response = client.patch(
        f"/questions/{question['id']}", json={"body": "Expert edit."}, headers=expert.headers
    )
    assert response.status_code == 403


def delete(client: TestClient, person: Person, question_id: int) -> int:
    return client.delete(f"/questions/{question_id}", headers=person.headers).status_code


def test_deleted_question_is_tombstoned_out_of_every_view(
    client: TestClient, people: People
) -> None:
    rep, topic = people.make("rep"), people.topic()
    kept = ask(client, rep, topic)
    gone = ask(client, rep, topic)
    assert delete(client, rep, gone["id"]) == 204

    thread = client.get(f"/questions/{gone['id']}", headers=rep.headers)
    assert thread.status_code == 404
    assert thread.headers["content-type"] == PROBLEM_JSON
    assert client.get(f"/questions/{gone['id']}/revisions", headers=rep.headers).status_code == 404
    assert ids(client.get("/questions", headers=rep.headers)) == [kept["id"]]
    assert delete(client, rep, gone["id"]) == 404


def test_deleted_question_is_kept_in_the_database(
    client: TestClient, people: People, db: Database
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic())
    delete(client, rep, question["id"])
    with db.engine.connect() as conn:
        row = conn.execute(
            text("SELECT title, deleted_at FROM questions WHERE id = :id"), {"id": question["id"]}
        ).one()
    assert row.title == question["title"]
    assert row.deleted_at is not None


def test_another_rep_may_not_delete_a_question(client: TestClient, people: People) -> None:
    author, intruder = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic())
    assert delete(client, intruder, question["id"]) == 403
    assert client.get(f"/questions/{question['id']}", headers=author.headers).status_code == 200


def test_admin_may_delete_anyones_question(client: TestClient, people: People) -> None:
    rep, admin = people.make("rep"), people.make("admin")
    question = ask(client, rep, people.topic())
    assert delete(client, admin, question["id"]) == 204
    assert client.get(f"/questions/{question['id']}", headers=rep.headers).status_code == 404


def test_a_deleted_question_cannot_be_answered(client: TestClient, people: People) -> None:
    asker, helper = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic())
    delete(client, asker, question["id"])
    response = client.post(
        f"/questions/{question['id']}/answers", json={"body": "Too late."}, headers=helper.headers
    )
    assert response.status_code == 404


def test_thread_shows_answers_with_their_comments_and_the_questions_comments(
    client: TestClient, people: People
) -> None:
    asker, helper, other = people.make("rep"), people.make("rep"), people.make("expert")
    question = ask(client, asker, people.topic())
    first = answer(client, helper, question["id"], "First answer.")
    second = answer(client, other, question["id"], "Second answer.")
    qid, aid = question["id"], first["id"]
    on_question = client.post(
        f"/questions/{qid}/comments", json={"body": "Which product?"}, headers=helper.headers
    )
    on_answer = client.post(
        f"/answers/{aid}/comments", json={"body": "Source?"}, headers=asker.headers
    )
    assert on_question.status_code == on_answer.status_code == 201

    thread = client.get(f"/questions/{qid}", headers=asker.headers).json()
    assert thread["question"]["id"] == qid
    assert thread["question"]["body"] == question["body"]
    assert [a["id"] for a in thread["answers"]] == [first["id"], second["id"]]
    assert [a["state"] for a in thread["answers"]] == ["unreviewed", "unreviewed"]
    assert [c["body"] for c in thread["comments"]] == ["Which product?"]
    assert [c["body"] for c in thread["answers"][0]["comments"]] == ["Source?"]
    assert thread["answers"][0]["comments"][0]["author"]["username"] == asker.username
    assert thread["answers"][1]["comments"] == []


def test_deleted_answer_is_hidden_from_the_thread(client: TestClient, people: People) -> None:
    asker, helper = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic())
    kept = answer(client, helper, question["id"], "Kept.")
    gone = answer(client, helper, question["id"], "Withdrawn.")
    client.post(f"/answers/{gone['id']}/comments", json={"body": "Hm."}, headers=asker.headers)
    assert client.delete(f"/answers/{gone['id']}", headers=helper.headers).status_code == 204

    thread = client.get(f"/questions/{question['id']}", headers=asker.headers).json()
    assert [a["id"] for a in thread["answers"]] == [kept["id"]]
    assert "Withdrawn." not in str(thread)
    assert "Hm." not in str(thread)
    assert client.get(f"/answers/{gone['id']}/revisions", headers=asker.headers).status_code == 404


def test_unknown_question_is_404_problem(client: TestClient, people: People) -> None:
    response = client.get("/questions/4242", headers=people.make("rep").headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"].endswith("/not-found")
