"""The search page: highlighted hits, facets that narrow, bad parameters, search down.

Tests marked `search` fill a real Meilisearch index of their own by draining the outbox;
the others get an unreachable Meilisearch, as when search is down.
"""

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.outbox.service import enqueue_thread
from app.questions.models import Question
from tests.factories import People, Person, answer, ask, review
from tests.search.helpers import drain
from tests.web.helpers import sign_in


@pytest.fixture
def rep(people: People) -> Person:
    people.topic("claims")
    people.topic("billing")
    return people.make("rep")


@pytest.fixture
def expert(people: People) -> Person:
    return people.make("expert", topics=("claims", "billing"))


def _endorsed(client: TestClient, expert: Person, author: Person, **question: Any) -> int:
    """A thread whose answer an expert endorsed; returns the question id."""
    body = question.pop("answer", "Use the approved windscreen network.")
    q = ask(client, author, **question)
    review(client, expert, answer(client, author, q["id"], body)["id"], "endorse")
    return int(q["id"])


def _hit_titles(html: str) -> list[str]:
    """The hits' titles in page order, highlights removed."""
    titles = re.findall(r'<h3 class="question-row__title"><a href="/questions/\d+">(.*?)</a>', html)
    return [re.sub(r"</?mark>", "", t) for t in titles]


def _href(html: str, rel: str) -> str:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    assert found, f"no {rel} link"
    return found.group(1).replace("&amp;", "&")


@pytest.mark.search
def test_a_hit_shows_highlights_topic_tags_status_and_the_best_answer(
    pages: TestClient,
    client: TestClient,
    rep: Person,
    expert: Person,
    db: Database,
    settings: Settings,
) -> None:
    q = _endorsed(
        client,
        expert,
        rep,
        topic="claims",
        title="Windscreen repair on a lapsed policy",
        body="The customer's cover lapsed last week.",
        tags=["glass"],
    )
    drain(db, settings)
    sign_in(pages, rep.username)

    response = pages.get("/search", params={"q": "windscreen"})
    html = response.text

    assert response.status_code == 200
    assert f'<a href="/questions/{q}"><mark>Windscreen</mark> repair on a lapsed policy</a>' in html
    assert ">Claims</a>" in html
    assert 'href="/?tag=glass">glass</a>' in html
    assert "Validated answer" in html  # the question's status: resolved
    assert "Expert-endorsed" in html  # the best answer's state
    assert "Use the approved <mark>windscreen</mark> network." in html
    assert (
        'id="site-search" name="q" type="search" placeholder="Search questions" value="windscreen"'
        in html
    )


@pytest.mark.search
def test_a_hostile_title_is_shown_as_text(
    pages: TestClient,
    client: TestClient,
    rep: Person,
    expert: Person,
    db: Database,
    settings: Settings,
) -> None:
    _endorsed(
        client,
        expert,
        rep,
        topic="claims",
        title="<script>alert(1)</script>",
        body='<img src=x onerror="alert(2)"> alert',
        answer="<b>bold</b> alert <script>alert(3)</script>",
    )
    drain(db, settings)
    sign_in(pages, rep.username)

    html = pages.get("/search", params={"q": "alert"}).text

    titles = re.findall(r'<h3 class="question-row__title"><a href="/questions/\d+">(.*?)</a>', html)
    assert [re.sub(r"</?mark>", "", t) for t in titles] == ["&lt;script&gt;alert(1)&lt;/script&gt;"]
    assert "<script>alert" not in html
    assert "<img" not in html
    assert "<b>bold" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; <mark>alert</mark>" in html


@pytest.mark.search
def test_topic_facet_counts_threads_and_its_link_narrows_the_search(
    pages: TestClient, client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    ask(client, rep, "claims", title="Excess on a windscreen claim")
    ask(client, rep, "claims", title="Excess on a theft claim")
    ask(client, rep, "billing", title="Excess refunded on cancellation")
    drain(db, settings)
    sign_in(pages, rep.username)

    html = pages.get("/search", params={"q": "excess"}).text
    claims_link = '<a class="facet__value" href="/search?q=excess&amp;topic=claims">'
    narrowed = pages.get("/search", params={"q": "excess", "topic": "claims"}).text

    facet = html[html.index(claims_link) :]
    assert re.match(
        r'.*?<span class="facet__label">Claims</span>\s*<span class="facet__count">2</span>',
        facet,
        re.S,
    )
    assert ">Billing</span>" in html
    assert sorted(_hit_titles(narrowed)) == [
        "Excess on a theft claim",
        "Excess on a windscreen claim",
    ]
    # The chosen value is marked, and choosing it again removes the filter.
    assert '<a class="facet__value" href="/search?q=excess" aria-current="true">' in narrowed
    assert 'type="hidden" name="topic" value="claims"' in narrowed  # kept by a new search


@pytest.mark.search
def test_expert_validated_only_keeps_threads_with_a_validated_answer(
    pages: TestClient,
    client: TestClient,
    rep: Person,
    expert: Person,
    db: Database,
    settings: Settings,
) -> None:
    _endorsed(client, expert, rep, topic="claims", title="Excess after an endorsed answer")
    unvalidated = ask(client, rep, "claims", title="Excess with no validated answer")
    answer(client, rep, unvalidated["id"], "I think it is waived.")
    drain(db, settings)
    sign_in(pages, rep.username)

    everything = pages.get("/search", params={"q": "excess"}).text
    validated = pages.get("/search", params={"q": "excess", "validated": "true"}).text

    assert len(_hit_titles(everything)) == 2
    assert "No expert-validated answer yet." in everything
    assert _hit_titles(validated) == ["Excess after an endorsed answer"]
    assert 'name="validated" value="true" checked' in validated


@pytest.mark.search
def test_tag_status_and_learning_need_facets_narrow_the_search(
    pages: TestClient,
    client: TestClient,
    rep: Person,
    expert: Person,
    db: Database,
    settings: Settings,
) -> None:
    glass = ask(client, rep, "claims", title="Excess for a glass claim", tags=["glass", "urgent"])
    _endorsed(client, expert, rep, topic="claims", title="Excess for a resolved claim")
    ask(client, rep, "claims", title="Excess for an ordinary claim", tags=["glass"])
    with session_scope(db) as session:
        session.execute(
            update(Question).where(Question.id == glass["id"]).values(has_learning_need=True)
        )
        enqueue_thread(session, glass["id"])
    drain(db, settings)
    sign_in(pages, rep.username)

    def titles(**params: Any) -> list[str]:
        return sorted(_hit_titles(pages.get("/search", params={"q": "excess", **params}).text))

    html = pages.get("/search", params={"q": "excess"}).text
    assert "Has a learning need" in html and "No learning need" in html
    assert html.count('<span class="badge badge--flag">Learning need</span>') == 1
    assert titles(tags=["glass", "urgent"]) == ["Excess for a glass claim"]
    assert titles(tags="glass") == ["Excess for a glass claim", "Excess for an ordinary claim"]
    assert titles(status="resolved") == ["Excess for a resolved claim"]
    assert titles(learning_need="true") == ["Excess for a glass claim"]


WORDS = ("first", "second", "third")


@pytest.mark.search
def test_sort_and_offset_pager(
    pages: TestClient, client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    asked = [ask(client, rep, "claims", title=f"Excess question asked {w}")["id"] for w in WORDS]
    with session_scope(db) as session:  # a minute apart: the index keeps whole seconds
        for minutes, question_id in enumerate(reversed(asked)):
            session.execute(
                update(Question)
                .where(Question.id == question_id)
                .values(created_at=utcnow() - timedelta(minutes=minutes))
            )
            enqueue_thread(session, question_id)
    drain(db, settings)
    sign_in(pages, rep.username)

    page_one = pages.get("/search", params={"q": "excess", "sort": "newest", "limit": 2}).text
    page_two = pages.get(_href(page_one, "next")).text

    assert _hit_titles(page_one) == ["Excess question asked third", "Excess question asked second"]
    assert "Results 1\u20132 of about 3" in page_one
    assert 'rel="prev"' not in page_one
    assert _hit_titles(page_two) == ["Excess question asked first"]
    assert 'rel="next"' not in page_two
    assert _href(page_two, "prev") == "/search?q=excess&sort=newest&limit=2"
    assert '<option value="newest" selected>' in page_two


@pytest.mark.search
def test_an_htmx_search_gets_only_the_results(
    pages: TestClient, client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    ask(client, rep, "claims", title="Excess on a windscreen claim")
    drain(db, settings)
    sign_in(pages, rep.username)

    response = pages.get("/search", params={"q": "excess"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="search-results"')
    assert "<h1>" not in response.text
    assert _hit_titles(response.text) == ["Excess on a windscreen claim"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 501}, 'id="q-error">String should have at most 500 characters'),
        ({"sort": "sideways"}, 'id="sort-error">Input should be'),
        ({"status": "bogus"}, "The status filter must be open, resolved or closed."),
        ({"topic": "Not A Slug"}, "The topic filter is not a topic name"),
        ({"tags": ["a", "b", "c", "d", "e", "f"]}, "The tag filter is not valid"),
        ({"tags": "<b>"}, "The tag filter is not valid"),
        ({"validated": "maybe"}, "The expert-validated filter must be true or false."),
        ({"learning_need": "2"}, "The learning-need filter must be true or false."),
        ({"offset": "-1"}, "The page must start between result 0 and 1000."),
        ({"offset": "5000"}, "The page must start between result 0 and 1000."),
        ({"offset": "first"}, "The page must start between result 0 and 1000."),
        ({"limit": "101"}, "The number of results per page must be between 1 and 100."),
    ],
)
def test_bad_parameters_are_refused_with_a_message_and_no_search(
    pages: TestClient, rep: Person, params: dict[str, Any], message: str
) -> None:
    # Not marked `search`: Meilisearch is unreachable, so reaching it would say so.
    sign_in(pages, rep.username)

    response = pages.get("/search", params=params)

    assert response.status_code == 422
    assert message in response.text
    assert "Search is unavailable" not in response.text
    assert 'name="q"' in response.text  # the form is there to search again


def test_a_refused_search_keeps_what_was_typed(pages: TestClient, rep: Person) -> None:
    sign_in(pages, rep.username)

    response = pages.get("/search", params={"q": "windscreen excess", "status": "bogus"})

    assert response.status_code == 422
    assert (
        'id="search-q" name="q" type="search" maxlength="500" value="windscreen excess"'
        in response.text
    )


def test_search_down_still_renders_a_page_that_points_to_the_questions(
    pages: TestClient, client: TestClient, rep: Person
) -> None:
    ask(client, rep, "claims", title="A thread anyone can still browse")
    sign_in(pages, rep.username)

    response = pages.get("/search", params={"q": "windscreen"})
    home = pages.get("/")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert "Search is unavailable at the moment; you can still browse questions" in response.text
    assert '<a href="/">Browse the questions</a>' in response.text
    assert 'value="windscreen"' in response.text  # the form, to try again
    assert home.status_code == 200
    assert "A thread anyone can still browse" in home.text


def test_search_down_during_an_htmx_search_loads_the_whole_page(
    pages: TestClient, rep: Person
) -> None:
    sign_in(pages, rep.username)

    response = pages.get(
        "/search", params={"q": "windscreen", "sort": "newest"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 503
    assert response.headers["hx-redirect"] == "/search?q=windscreen&sort=newest"


def test_a_visitor_is_sent_to_sign_in(pages: TestClient) -> None:
    response = pages.get("/search?q=excess", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/search")
