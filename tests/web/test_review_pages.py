"""The review queue page and its endorse / correct / reject forms, as a browser without
JavaScript uses them."""

import html
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db import Database
from tests.factories import (
    People,
    Person,
    answer,
    ask,
    count_rows,
    flag,
    review,
    shown_answer,
)
from tests.questions.test_thread_queries import counting_queries
from tests.reviews.test_review_queue import make_stale
from tests.web.helpers import sign_in, submit


@dataclass
class Queue:
    """A rep's two answers in `claims` (the second flagged by a colleague), an expert of
    `claims` signed in to the pages, and a signpost of the topic."""

    expert: Person
    rep: Person
    question_id: int
    plain_id: int
    flagged_id: int
    resource_id: int
    csrf: str


@pytest.fixture
def queue(client: TestClient, people: People, pages: TestClient) -> Queue:
    expert = people.make("expert", topics=("claims",))
    rep, colleague = people.make("rep"), people.make("rep")
    question = ask(client, rep, "claims", title="Can a lapsed policy be reinstated?")
    plain = answer(client, rep, question["id"], "Within **30 days**, yes.")
    flagged = answer(client, rep, question["id"], "Never, it must be rewritten.")
    flag(client, colleague, flagged["id"], "The reinstatement rule changed in May.")
    resource = client.post(
        "/topics/claims/resources",
        json={"title": "Reinstatement guide", "url": "https://intranet.example/reinstate"},
        headers=expert.headers,
    )
    assert resource.status_code == 201, resource.text
    csrf = sign_in(pages, expert.username)
    return Queue(
        expert, rep, question["id"], plain["id"], flagged["id"], resource.json()["id"], csrf
    )


def card(page: str, answer_id: int) -> str:
    """The HTML of one answer's card on the queue page."""
    start = page.index(f'id="answer-{answer_id}"')
    return page[start : page.index("</article>", start)]


def form(card_html: str, verdict: str) -> str:
    """The HTML of one review form of a card."""
    start = card_html.index(f'name="verdict" value="{verdict}"')
    return card_html[start : card_html.index("</form>", start)]


def text(fragment: str) -> str:
    return html.unescape(fragment)


def test_queue_shows_flagged_answers_first_with_why_they_wait(
    pages: TestClient, queue: Queue
) -> None:
    response = pages.get("/reviews")
    assert response.status_code == 200
    page = response.text
    assert page.index(f'id="answer-{queue.flagged_id}"') < page.index(
        f'id="answer-{queue.plain_id}"'
    )
    flagged = text(card(page, queue.flagged_id))
    assert "Flagged as possibly wrong" in flagged
    assert "“The reinstatement rule changed in May.”" in flagged
    assert f'href="/questions/{queue.question_id}#answer-{queue.flagged_id}"' in flagged
    assert "Can a lapsed policy be reinstated?" in flagged
    plain = card(page, queue.plain_id)
    assert "New: not yet reviewed" in plain
    assert "<strong>30 days</strong>" in plain  # the body as markdown
    # The correction starts as the answer's own text; the signpost can be cited.
    assert ">Within **30 days**, yes.</textarea>" in form(plain, "correct")
    assert "Reinstatement guide" in form(plain, "reject")
    assert "<kbd>e</kbd>" in page and "<dt>" in page  # the shortcuts, listed


def test_text_people_wrote_is_shown_as_text(
    client: TestClient, people: People, pages: TestClient, queue: Queue
) -> None:
    hostile = ask(client, queue.rep, "claims", title="<script>alert('title')</script> lapsed?")
    posted = answer(client, queue.rep, hostile["id"], "<img src=x onerror=alert(1)> *ok*")
    flag(client, people.make("rep"), posted["id"], "<b onmouseover=alert(2)>wrong</b>")
    shown = card(pages.get("/reviews").text, posted["id"])
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "<img" not in shown and "<b " not in shown and "&lt;b onmouseover" in shown


def test_awaiting_answer_says_how_many_endorsements_it_has(
    client: TestClient, people: People, pages: TestClient
) -> None:
    topic = people.topic("pensions", required_endorsements=2)
    first = people.make("expert", topics=(topic,), username="ann")
    second = people.make("expert", topics=(topic,))
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, topic)["id"])
    review(client, first, posted["id"], "endorse")
    sign_in(pages, second.username)
    shown = text(card(pages.get("/reviews").text, posted["id"]))
    assert "Awaiting a second endorsement" in shown
    assert "1 of 2 endorsements so far (by Ann)" in shown


def test_stale_endorsement_is_back_in_the_queue(
    client: TestClient, people: People, pages: TestClient, db: Database
) -> None:
    topic = people.topic("mortgages", review_interval_days=30)
    expert = people.make("expert", topics=(topic,))
    rep = people.make("rep")
    posted = answer(client, rep, ask(client, rep, topic)["id"])
    review(client, expert, posted["id"], "endorse")
    make_stale(db, posted["id"])
    sign_in(pages, expert.username)
    shown = text(card(pages.get("/reviews").text, posted["id"]))
    assert "Endorsement due for review" in shown and "Last endorsed" in shown


def test_empty_queue_says_nothing_waits(people: People, pages: TestClient) -> None:
    expert = people.make("expert", topics=("quiet",))
    sign_in(pages, expert.username)
    page = pages.get("/reviews").text
    assert "Nothing waits for you" in page
    assert 'name="verdict"' not in page


@pytest.mark.parametrize("roles", [("rep",), ("compliance",), ("admin",)], ids=str)
def test_queue_is_for_experts_only(people: People, pages: TestClient, roles: tuple[str]) -> None:
    sign_in(pages, people.make(*roles).username)
    response = pages.get("/reviews")
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]


def test_endorsing_returns_to_the_queue_at_the_next_answer(
    client: TestClient, pages: TestClient, queue: Queue
) -> None:
    response = submit(
        pages,
        f"/answers/{queue.flagged_id}/review",
        {"verdict": "endorse", "next_answer": queue.plain_id},
        queue.csrf,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/reviews#answer-{queue.plain_id}"
    page = text(pages.get("/reviews").text)
    assert "Endorsed the answer to “Can a lapsed policy be reinstated?”." in page
    assert f'id="answer-{queue.flagged_id}"' not in page
    assert shown_answer(client, queue.rep, queue.question_id, queue.flagged_id)["state"] == (
        "endorsed"
    )


def test_correcting_records_the_rationale_correction_and_signpost(
    client: TestClient, pages: TestClient, queue: Queue
) -> None:
    response = submit(
        pages,
        f"/answers/{queue.plain_id}/review",
        {
            "verdict": "correct",
            "rationale": "The window is 14 days now.",
            "correction": "Within 14 days, yes.",
            "references": [str(queue.resource_id)],
        },
        queue.csrf,
    )
    assert response.status_code == 303
    assert "Corrected the answer" in text(pages.get("/reviews").text)
    shown = shown_answer(client, queue.rep, queue.question_id, queue.plain_id)
    assert shown["state"] == "corrected"
    assert shown["correction"] == "Within 14 days, yes."


def test_rejecting_keeps_the_page_of_the_queue(
    client: TestClient, pages: TestClient, queue: Queue
) -> None:
    cursor = "eyJhZnRlciI6MX0"
    response = submit(
        pages,
        f"/answers/{queue.plain_id}/review",
        {"verdict": "reject", "rationale": "Not our rule.", "cursor": cursor},
        queue.csrf,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/reviews?cursor={cursor}"
    shown = shown_answer(client, queue.rep, queue.question_id, queue.plain_id)
    assert shown["state"] == "rejected"


REFUSED = [
    # form data; the form it came from, the field with the message, the message, kept text
    pytest.param(
        {"verdict": "reject", "rationale": "  "},
        ("reject", "rationale", "a rationale is required to reject", None),
        id="reject-without-rationale",
    ),
    pytest.param(
        {"verdict": "correct", "correction": "Better."},
        ("correct", "rationale", "a rationale is required to correct", ">Better.</textarea>"),
        id="correct-without-rationale",
    ),
    pytest.param(
        {"verdict": "correct", "rationale": "Wrong window.", "correction": ""},
        ("correct", "correction", "a correction is required to correct", ">Wrong window.<"),
        id="correct-without-correction",
    ),
    pytest.param(
        {"verdict": "reject", "rationale": "r" * 5_001},
        ("reject", "rationale", "at most 5000 characters", "r" * 5_001),
        id="rationale-too-long",
    ),
    pytest.param(
        {"verdict": "reject", "rationale": "No.", "references": ["999999"]},
        ("reject", "references", "unknown resource 999999", ">No.</textarea>"),
        id="unknown-signpost",
    ),
]


@pytest.mark.parametrize(("data", "expected"), REFUSED)
def test_refused_review_shows_the_message_beside_its_field_and_writes_nothing(
    pages: TestClient,
    db: Database,
    queue: Queue,
    data: dict[str, Any],
    expected: tuple[str, str, str, str | None],
) -> None:
    verdict, field, message, kept = expected
    before = count_rows(db)
    response = submit(pages, f"/answers/{queue.plain_id}/review", data, queue.csrf)
    assert response.status_code == 422
    assert count_rows(db) == before
    refused = form(card(response.text, queue.plain_id), verdict)
    error = refused[refused.index(f'id="{field}-error"') :]
    assert message in text(error[: error.index("</p>")])
    if kept:
        assert kept in refused
    # Only that card's form shows it, and it is left open.
    assert "field__error" not in card(response.text, queue.flagged_id)
    assert f'data-review-form="{verdict}" open' in card(response.text, queue.plain_id)


def test_review_with_an_unknown_verdict_is_refused_on_its_card(
    pages: TestClient, db: Database, queue: Queue
) -> None:
    before = count_rows(db)
    response = submit(
        pages, f"/answers/{queue.plain_id}/review", {"verdict": "approve"}, queue.csrf
    )
    assert response.status_code == 422
    assert "form-error" in card(response.text, queue.plain_id)
    assert count_rows(db) == before


def test_expert_may_not_review_their_own_answer(
    client: TestClient, pages: TestClient, db: Database, queue: Queue
) -> None:
    own = answer(client, queue.expert, queue.question_id, "My own view.")
    before = count_rows(db)
    response = submit(pages, f"/answers/{own['id']}/review", {"verdict": "endorse"}, queue.csrf)
    assert response.status_code == 403
    assert "You may not review your own answer" in response.text
    assert count_rows(db) == before


def test_expert_of_another_topic_may_not_review(
    client: TestClient, people: People, pages: TestClient, db: Database, queue: Queue
) -> None:
    other = people.make("expert", topics=("motor",))
    csrf = sign_in(pages, other.username)
    before = count_rows(db)
    response = submit(pages, f"/answers/{queue.plain_id}/review", {"verdict": "endorse"}, csrf)
    assert response.status_code == 403
    assert "Only experts of this answer's topic" in text(response.text)
    assert count_rows(db) == before


def test_rep_may_not_post_a_review(
    people: People, pages: TestClient, db: Database, queue: Queue
) -> None:
    csrf = sign_in(pages, people.make("rep").username)
    before = count_rows(db)
    response = submit(pages, f"/answers/{queue.plain_id}/review", {"verdict": "endorse"}, csrf)
    assert response.status_code == 403
    assert count_rows(db) == before


@pytest.mark.parametrize("path", ["/answers/999999/review", "/answers/abc/review"])
def test_reviewing_an_unknown_answer_is_404(pages: TestClient, queue: Queue, path: str) -> None:
    response = submit(pages, path, {"verdict": "endorse"}, queue.csrf)
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W1siYSJdXQ", "x" * 300])
def test_hostile_cursor_is_a_4xx_page(pages: TestClient, queue: Queue, cursor: str) -> None:
    response = pages.get("/reviews", params={"cursor": cursor})
    assert 400 <= response.status_code < 500


def test_queue_page_costs_the_same_queries_however_long_it_is(
    client: TestClient, people: People, pages: TestClient, db: Database, queue: Queue
) -> None:
    def statements() -> int:
        with counting_queries(db) as run:
            assert pages.get("/reviews").status_code == 200
        return len(run)

    small = statements()
    colleague = people.make("rep")
    for n in range(6):
        posted = answer(client, queue.rep, queue.question_id, f"Answer {n}.")
        if n % 2:
            flag(client, colleague, posted["id"], f"Doubt {n}.")
    assert statements() == small
