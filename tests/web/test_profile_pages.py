"""Profile pages: a person's reputation, questions, and answers with the experts' verdicts."""

from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import People, Person, answer, ask, review
from tests.questions.test_thread_queries import counting_queries
from tests.web.helpers import sign_in


def _expert_rejects(
    client: TestClient, people: People, author: Person, rationale: str
) -> tuple[Person, dict[str, object], dict[str, object]]:
    people.topic("claims")
    expert = people.make("expert", topics=("claims",), username="mira.expert")
    question = ask(client, author, "claims", title="Can a lapsed policy be reinstated online?")
    wrong = answer(client, author, question["id"], "Yes, always, from the portal.")
    review(client, expert, int(wrong["id"]), "reject", rationale=rationale)
    return expert, question, wrong


def test_my_profile_shows_an_experts_rationale_on_my_rejected_answer(
    pages: TestClient, client: TestClient, people: People
) -> None:
    rep = people.make("rep")
    _, question, wrong = _expert_rejects(
        client, people, rep, "Only within 30 days of the lapse, by phone."
    )
    sign_in(pages, rep.username)

    html = pages.get("/profile").text

    assert "This is your profile" in html
    assert "Only within 30 days of the lapse, by phone." in html
    assert "Rejected by an expert" in html  # the answer's state badge
    assert "<strong>Rejected</strong> by" in html  # the verdict
    assert 'href="/people/mira.expert">Mira.Expert</a>' in html  # who gave it
    assert f'href="/questions/{question["id"]}#answer-{wrong["id"]}"' in html
    assert "Yes, always, from the portal." in html


def test_a_correction_is_shown_with_its_rationale(
    pages: TestClient, client: TestClient, people: People
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    expert = people.make("expert", topics=("claims",))
    question = ask(client, rep, "claims", title="Which glazier fixes a windscreen?")
    given = answer(client, rep, question["id"], "Any glazier you like.")
    review(
        client,
        expert,
        given["id"],
        "correct",
        rationale="The policy names an approved network.",
        correction="Use a glazier of the **approved network**.",
    )
    sign_in(pages, rep.username)

    html = pages.get("/profile").text

    assert "Corrected by an expert" in html
    assert "The policy names an approved network." in html
    assert "Use a glazier of the <strong>approved network</strong>." in html


def test_another_persons_profile_shows_their_roles_topics_and_reputation(
    pages: TestClient, client: TestClient, people: People
) -> None:
    people.topic("claims")
    people.topic("billing")
    rep = people.make("rep")
    expert = people.make("expert", topics=("claims", "billing"))
    question = ask(client, rep, "claims", title="How long does a claim stay open?")
    review(client, expert, answer(client, rep, question["id"], "Ninety days.")["id"], "endorse")
    reader = people.make("rep")
    sign_in(pages, reader.username)

    author_page = pages.get(f"/people/{rep.username}")
    expert_page = pages.get(f"/people/{expert.username}")

    assert author_page.status_code == 200
    assert f"<h1>{rep.username.title()}</h1>" in author_page.text
    assert "Customer service rep" in author_page.text
    assert '<span class="reputation__points">10</span>' in author_page.text
    assert "How long does a claim stay open?" in author_page.text
    assert "This is your profile" not in author_page.text
    assert "Expert-endorsed" in author_page.text
    assert "Expert in" in expert_page.text
    assert ">Billing</a>" in expert_page.text and ">Claims</a>" in expert_page.text
    assert '<span class="reputation__points">1</span>' in expert_page.text  # one review
    assert 'href="/leaderboard?topic=claims">Claims</a>' in expert_page.text


def test_an_unknown_username_is_a_404_page(pages: TestClient, people: People) -> None:
    sign_in(pages, people.make("rep").username)

    for path in ("/people/nobody-here", "/people/" + "x" * 80):
        response = pages.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]


def test_deleted_questions_and_answers_are_not_shown(
    pages: TestClient, client: TestClient, people: People
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    other = people.make("rep")
    kept = ask(client, rep, "claims", title="A question that stays up")
    gone = ask(client, rep, "claims", title="A question I deleted later")
    removed_answer = answer(client, rep, kept["id"], "An answer I deleted.")
    on_deleted_thread = ask(client, other, "claims", title="Someone else's deleted thread")
    answer(client, rep, on_deleted_thread["id"], "My answer on a thread that went.")
    for path, person in (
        (f"/questions/{gone['id']}", rep),
        (f"/answers/{removed_answer['id']}", rep),
        (f"/questions/{on_deleted_thread['id']}", other),
    ):
        assert client.delete(path, headers=person.headers).status_code == 204
    sign_in(pages, rep.username)

    html = pages.get("/profile").text

    assert "A question that stays up" in html
    assert "A question I deleted later" not in html
    assert "An answer I deleted." not in html
    assert "My answer on a thread that went." not in html
    assert "not answered any questions yet" in html


def _profile_queries(pages: TestClient, db: Database, username: str) -> int:
    with counting_queries(db) as statements:
        response = pages.get(f"/people/{username}")
    assert response.status_code == 200
    return len(statements)


def test_profile_query_count_does_not_grow_with_answers_and_reviews(
    pages: TestClient, client: TestClient, people: People, db: Database
) -> None:
    people.topic("claims")
    experts = [people.make("expert", topics=("claims",)) for _ in range(2)]
    light, heavy = people.make("rep"), people.make("rep")
    for author, count in ((light, 1), (heavy, 4)):
        for n in range(count):
            q = ask(client, author, "claims", title=f"Question number {n} about claims")
            a = answer(client, author, q["id"], f"Answer number {n}.")
            for expert in experts:
                review(client, expert, a["id"], "reject", rationale="Not so.")
    sign_in(pages, people.make("rep").username)

    assert _profile_queries(pages, db, heavy.username) == _profile_queries(
        pages, db, light.username
    )
