"""The whole validation story through the HTTP API: wrong answers become a learning need."""

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import People, Person, answer, ask


def review(client: TestClient, expert: Person, answer_id: int, verdict: str, **fields: Any) -> Any:
    response = client.post(
        f"/answers/{answer_id}/reviews", json={"verdict": verdict, **fields}, headers=expert.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def thread_signals(client: TestClient, reader: Person) -> list[dict[str, Any]]:
    response = client.get("/learning-needs", params={"kind": "thread"}, headers=reader.headers)
    assert response.status_code == 200
    return list(response.json()["items"])


def reputation(client: TestClient, person: Person) -> int:
    return int(client.get("/me", headers=person.headers).json()["reputation"])


def test_wrong_answers_open_a_signal_that_is_handled_and_reopens(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep, asker = people.make("rep"), people.make("rep")
    question = ask(client, asker, "claims")
    first = answer(client, rep, question["id"], "Glass claims never have an excess.")
    second = answer(client, rep, question["id"], "Windscreens are not covered at all.")

    review(client, expert, first["id"], "reject", rationale="Most policies carry a glass excess.")
    assert thread_signals(client, rep) == []
    review(
        client,
        expert,
        second["id"],
        "correct",
        rationale="Cover depends on the policy.",
        correction="Windscreen cover is optional; check the schedule.",
    )
    [signal] = thread_signals(client, rep)
    assert signal["status"] == "open"
    assert (signal["question_id"], signal["wrong_count"], signal["reviewed_count"]) == (
        question["id"],
        2,
        2,
    )
    assert signal["question_title"] == question["title"]
    assert [step["status"] for step in signal["history"]] == ["open"]

    ack = client.post(
        f"/learning-needs/{signal['id']}/acknowledge",
        json={"note": "Seen it."},
        headers=expert.headers,
    )
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    again = client.post(
        f"/learning-needs/{signal['id']}/acknowledge",
        json={"note": "Again."},
        headers=expert.headers,
    )
    assert again.status_code == 409
    addressed = client.post(
        f"/learning-needs/{signal['id']}/address",
        json={"note": "Glass cover added to induction training."},
        headers=expert.headers,
    )
    assert addressed.status_code == 200 and addressed.json()["status"] == "addressed"

    third = answer(client, rep, question["id"], "Glass is always covered in full.")
    review(client, expert, third["id"], "reject", rationale="Not without the optional cover.")
    [reopened] = thread_signals(client, rep)
    assert reopened["id"] == signal["id"]
    assert reopened["status"] == "open"
    assert reopened["wrong_count"] == 3
    assert [s["status"] for s in reopened["history"]] == [
        "open",
        "acknowledged",
        "addressed",
        "open",
    ]
    assert reopened["history"][2]["note"] == "Glass cover added to induction training."


def test_reputation_leaderboard_and_digest_follow_the_verdicts(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep, asker = people.make("rep"), people.make("rep")
    question = ask(client, asker, "claims")
    wrong = answer(client, rep, question["id"], "Wrong.")
    fixable = answer(client, rep, question["id"], "Nearly right.")
    right = answer(client, rep, question["id"], "Right.")

    review(client, expert, wrong["id"], "reject", rationale="No.")
    assert reputation(client, rep) == 0  # rejections cost nothing
    review(client, expert, fixable["id"], "correct", rationale="Almost.", correction="Exactly so.")
    assert reputation(client, rep) == 2
    review(client, expert, right["id"], "endorse")
    assert reputation(client, rep) == 12
    assert reputation(client, expert) == 3  # one point per review done

    board = client.get("/leaderboard", params={"topic": "claims"}, headers=asker.headers).json()
    assert [(e["user"]["username"], e["reputation"]) for e in board["entries"]] == [
        (rep.username, 12),
        (expert.username, 3),
    ]
    overall = client.get("/leaderboard", headers=asker.headers).json()
    assert overall["entries"][0]["user"]["username"] == rep.username

    digest = client.get(
        "/digest", params={"since": question["created_at"]}, headers=asker.headers
    ).json()
    assert {a["answer_id"] for a in digest["answers"]} == {fixable["id"], right["id"]}
    corrected = next(a for a in digest["answers"] if a["answer_id"] == fixable["id"])
    assert corrected["correction"] == "Exactly so."
    assert digest["top_contributors"][0] == {
        "user": {"id": rep.id, "username": rep.username, "display_name": rep.username.title()},
        "points": 12,
    }
    later = client.get("/digest", params={"since": "2999-01-01T00:00:00Z"}, headers=asker.headers)
    assert later.status_code == 422


def test_thread_shows_correction_reviews_and_resolved_status(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep, asker = people.make("rep"), people.make("rep")
    question = ask(client, asker, "claims")
    posted = answer(client, rep, question["id"], "Original text.")
    resource = client.post(
        "/topics/claims/resources",
        json={"title": "Claims manual", "url": "https://intranet.example/claims"},
        headers=expert.headers,
    ).json()
    review(
        client,
        expert,
        posted["id"],
        "correct",
        rationale="Imprecise.",
        correction="Authoritative text.",
        references=[resource["id"], "https://fca.example/icobs"],
    )

    thread = client.get(f"/questions/{question['id']}", headers=asker.headers).json()
    assert thread["question"]["status"] == "resolved"
    [shown] = thread["answers"]
    assert shown["state"] == "corrected"
    assert shown["body"] == "Original text."
    assert shown["correction"] == "Authoritative text."
    [verdict] = shown["reviews"]
    assert verdict["verdict"] == "correct" and verdict["reviewer"]["id"] == expert.id
    assert verdict["references"] == [
        {
            "resource_id": resource["id"],
            "title": "Claims manual",
            "url": "https://intranet.example/claims",
        },
        {"url": "https://fca.example/icobs"},
    ]
    assert [r["title"] for r in thread["resources"]] == ["Claims manual"]


def test_editing_a_validated_answer_returns_it_to_unreviewed(
    client: TestClient, people: People
) -> None:
    expert = people.make("expert", topics=("claims",))
    rep, asker = people.make("rep"), people.make("rep")
    question = ask(client, asker, "claims")
    posted = answer(client, rep, question["id"], "Version one.")
    review(client, expert, posted["id"], "endorse")
    edited = client.patch(
        f"/answers/{posted['id']}", json={"body": "Version two."}, headers=rep.headers
    )
    assert edited.status_code == 200 and edited.json()["state"] == "unreviewed"
    thread = client.get(f"/questions/{question['id']}", headers=asker.headers).json()
    assert thread["question"]["status"] == "open"
    revisions = client.get(f"/answers/{posted['id']}/revisions", headers=asker.headers).json()
    assert [r["body"] for r in revisions["items"]] == ["Version one.", "Version two."]
