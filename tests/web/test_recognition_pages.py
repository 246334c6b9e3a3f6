"""Digest and leaderboard pages: newly validated answers, and reputation rankings."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.db import Database, session_scope, utcnow
from app.recognition.models import ReputationEvent
from tests.factories import People, Person, answer, ask, review
from tests.web.helpers import sign_in


@pytest.fixture
def expert(people: People) -> Person:
    people.topic("claims")
    people.topic("billing")
    return people.make("expert", topics=("claims", "billing"), username="mira.expert")


def _validated(
    client: TestClient, expert: Person, author: Person, title: str, verdict: str = "endorse"
) -> tuple[dict[str, object], dict[str, object]]:
    question = ask(client, author, "claims", title=title)
    given = answer(client, author, question["id"], f"My answer to: {title}")
    fields = (
        {"rationale": "The policy wording differs.", "correction": "The corrected wording."}
        if verdict == "correct"
        else {}
    )
    review(client, expert, given["id"], verdict, **fields)
    return question, given


def _backdate(db: Database, answer_id: object, days: int) -> None:
    """As if the answer had been validated, and its points earned, `days` ago."""
    then = utcnow() - timedelta(days=days)
    with session_scope(db) as session:
        session.execute(update(Answer).where(Answer.id == answer_id).values(validated_at=then))
        session.execute(
            update(ReputationEvent)
            .where(ReputationEvent.answer_id == answer_id)
            .values(created_at=then)
        )


# ---- Digest


def test_digest_lists_this_weeks_validated_answers_with_question_topic_author_and_state(
    pages: TestClient, client: TestClient, people: People, expert: Person
) -> None:
    rep = people.make("rep", username="sam.rep")
    endorsed_q, endorsed = _validated(client, expert, rep, "How long does a claim stay open?")
    _validated(client, expert, rep, "Which glazier fixes a windscreen?", verdict="correct")
    unreviewed_q = ask(client, rep, "claims", title="Is a chipped windscreen covered?")
    answer(client, rep, unreviewed_q["id"], "Probably.")
    sign_in(pages, people.make("rep").username)

    html = pages.get("/digest").text

    assert f'href="/questions/{endorsed_q["id"]}#answer-{endorsed["id"]}"' in html
    assert "How long does a claim stay open?" in html
    assert "Expert-endorsed" in html and "Corrected by an expert" in html
    assert ">Claims</a>" in html
    assert 'href="/people/sam.rep">Sam.Rep</a>' in html
    # A corrected answer is shown by its correction, not the words that were wrong.
    assert "The corrected wording." in html
    assert "My answer to: Which glazier fixes a windscreen?" not in html
    assert "Is a chipped windscreen covered?" not in html


def test_digest_leaves_out_what_was_validated_before_the_chosen_day(
    pages: TestClient, client: TestClient, people: People, expert: Person, db: Database
) -> None:
    rep = people.make("rep")
    _, old = _validated(client, expert, rep, "An answer validated a fortnight ago")
    _validated(client, expert, rep, "An answer validated today")
    _backdate(db, old["id"], days=14)
    sign_in(pages, rep.username)

    this_week = pages.get("/digest").text
    earlier_day = (utcnow() - timedelta(days=20)).date().isoformat()
    since_then = pages.get(f"/digest?since={earlier_day}").text

    assert "An answer validated today" in this_week
    assert "An answer validated a fortnight ago" not in this_week
    week_ago = (utcnow() - timedelta(days=7)).date().isoformat()
    assert f'value="{week_ago}"' in this_week  # the date field shows the default
    assert "An answer validated a fortnight ago" in since_then
    assert f'value="{earlier_day}"' in since_then


def test_a_future_day_is_refused_beside_the_date_field(pages: TestClient, people: People) -> None:
    sign_in(pages, people.make("rep").username)
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()

    response = pages.get(f"/digest?since={tomorrow}")

    assert response.status_code == 422
    assert 'id="since-error">is in the future' in response.text
    assert f'value="{tomorrow}"' in response.text
    assert 'aria-invalid="true"' in response.text


@pytest.mark.parametrize(
    ("query", "status"),
    [("since=last-tuesday", 422), ("since=2026-13-40", 422), ("limit=0", 422), ("cursor=%%%", 400)],
)
def test_bad_digest_parameters_are_4xx_pages(
    pages: TestClient, people: People, query: str, status: int
) -> None:
    sign_in(pages, people.make("rep").username)

    response = pages.get(f"/digest?{query}")

    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]


def test_digest_shows_the_periods_top_contributors(
    pages: TestClient, client: TestClient, people: People, expert: Person, db: Database
) -> None:
    rep = people.make("rep", username="sam.rep")
    early = people.make("rep", username="olga.rep")
    for n in range(2):
        _validated(client, expert, rep, f"Endorsed answer number {n} this week")
    _, old = _validated(client, expert, early, "An endorsed answer from last month")
    _backdate(db, old["id"], days=30)
    sign_in(pages, rep.username)

    html = pages.get("/digest").text
    aside = html[html.index('id="digest-contributors"') :]

    assert 'Sam.Rep</a> <span class="points">20 points</span>' in aside
    assert 'Mira.Expert</a> <span class="points">2 points</span>' in aside  # 2 reviews
    assert "Olga.Rep" not in aside  # earned nothing this week
    assert aside.index("Sam.Rep") < aside.index("Mira.Expert")


def test_the_digest_pages_on_with_a_cursor(
    pages: TestClient, client: TestClient, people: People, expert: Person
) -> None:
    rep = people.make("rep")
    _validated(client, expert, rep, "The first answer validated")
    _validated(client, expert, rep, "The second answer validated")
    sign_in(pages, rep.username)

    first = pages.get("/digest?limit=1").text
    assert "The second answer validated" in first
    assert "The first answer validated" not in first
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = pages.get(next_url.replace("&amp;", "&")).text

    assert "The first answer validated" in second
    assert "The second answer validated" not in second
    assert 'rel="next"' not in second


# ---- Leaderboard


def test_leaderboard_ranks_people_overall_and_within_a_topic(
    pages: TestClient, client: TestClient, people: People, expert: Person
) -> None:
    ana, ben = people.make("rep", username="ana.rep"), people.make("rep", username="ben.rep")
    for n in range(2):
        _validated(client, expert, ana, f"Ana's endorsed answer number {n}")
    _validated(client, expert, ben, "Ben's corrected answer", verdict="correct")
    billing_q = ask(client, ben, "billing", title="When is the direct debit taken?")
    review(client, expert, answer(client, ben, billing_q["id"], "On the 1st.")["id"], "endorse")
    sign_in(pages, ana.username)

    overall = pages.get("/leaderboard").text
    billing = pages.get("/leaderboard?topic=billing").text

    ranking = overall[overall.index("<tbody>") :]
    # Ana 20, Ben 2 + 10, the expert 4 reviews.
    assert ranking.index("Ana.Rep") < ranking.index("Ben.Rep") < ranking.index("Mira.Expert")
    assert '<td class="leaderboard__points">20</td>' in ranking
    assert 'href="/people/ana.rep"' in ranking
    assert "(you)" in ranking
    assert "Reputation in Billing" in billing
    billing_ranking = billing[billing.index("<tbody>") :]
    assert billing_ranking.index("Ben.Rep") < billing_ranking.index("Mira.Expert")
    assert "Ana.Rep" not in billing_ranking
    assert '<option value="billing" selected>' in billing


def test_an_empty_topic_choice_is_the_overall_ranking(
    pages: TestClient, client: TestClient, people: People, expert: Person
) -> None:
    rep = people.make("rep")
    _validated(client, expert, rep, "An answer endorsed for the ranking")
    sign_in(pages, rep.username)

    response = pages.get("/leaderboard?topic=")

    assert response.status_code == 200
    assert "Reputation across all topics" in response.text
    assert rep.username.title() in response.text


@pytest.mark.parametrize("topic", ["no-such-topic", "Not A Slug", "x" * 65])
def test_an_unknown_topic_is_a_4xx_page(pages: TestClient, people: People, topic: str) -> None:
    sign_in(pages, people.make("rep").username)

    response = pages.get("/leaderboard", params={"topic": topic})

    assert response.status_code in (404, 422)
    assert "text/html" in response.headers["content-type"]
