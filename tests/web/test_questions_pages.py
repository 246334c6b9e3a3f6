"""Asking, the similar-question hints, editing and deleting a question, its history, and
the home listing, through the web pages as a browser without JavaScript uses them."""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from search.client import SearchUnavailable
from tests.factories import People, ask, count_rows
from tests.web.helpers import sign_in, submit
from tests.web.test_thread_pages import text_of

WRITES = ("questions", "question_tags", "question_revisions", "search_outbox", "audit_events")


class FakeSearcher:
    """Stands in for Meilisearch: answers every search with `hits`, or is down."""

    def __init__(self, hits: list[dict[str, Any]] | None = None) -> None:
        self.hits = hits
        self.asked: list[dict[str, Any]] = []

    def search(self, body: dict[str, Any]) -> bytes:
        self.asked.append(body)
        if self.hits is None:
            raise SearchUnavailable("connection refused")
        return json.dumps({"hits": self.hits}).encode()


def _hit(id: int, title: str, validated: bool = False) -> dict[str, Any]:
    return {"id": id, "title": title, "topic": "claims", "status": "open", "validated": validated}


def _form(**fields: str) -> dict[str, str]:
    base = {
        "title": "Can a customer pause their pet cover?",
        "body": "A customer asks about **pausing** cover while abroad.",
        "topic": "pets",
        "tags": "pause, abroad",
    }
    return {**base, **fields}


def test_asking_posts_the_question_and_opens_its_thread(
    client: TestClient, pages: TestClient, people: People
) -> None:
    people.topic("pets")
    rep = people.make("rep")
    csrf = sign_in(pages, rep.username)

    form = pages.get("/ask")
    response = submit(pages, "/ask", _form(), csrf)

    assert form.status_code == 200
    assert '<option value="pets">Pets</option>' in form.text
    assert response.status_code == 303
    assert re.fullmatch(r"/questions/\d+", response.headers["location"])
    thread = pages.get(response.headers["location"]).text
    assert "Your question is posted." in thread
    assert "<h1" in thread and "Can a customer pause their pet cover?" in thread
    assert "<strong>pausing</strong>" in thread
    assert 'href="/?tag=pause"' in thread and 'href="/?tag=abroad"' in thread


@pytest.mark.parametrize(
    ("fields", "field", "kept"),
    [
        ({"title": "Too short"}, "title", 'value="Too short"'),
        ({"body": ""}, "body", "Can a customer pause their pet cover?"),
        ({"topic": ""}, "topic", "A customer asks about **pausing** cover"),
        ({"topic": "no-such-topic"}, "topic", 'value="pause, abroad"'),
        ({"tags": "a b c d e f"}, "tags", 'value="a b c d e f"'),
        ({"tags": "Not_A_Slug"}, "tags", 'value="Not_A_Slug"'),
        ({"tags": "same same"}, "tags", 'value="same same"'),
    ],
)
def test_a_refused_question_shows_the_error_beside_its_field_and_writes_nothing(
    client: TestClient,
    pages: TestClient,
    people: People,
    fields: dict[str, str],
    field: str,
    kept: str,
) -> None:
    people.topic("pets")
    csrf = sign_in(pages, people.make("rep").username)
    before = count_rows(pages.app.state.db, WRITES)  # type: ignore[attr-defined]

    response = submit(pages, "/ask", _form(**fields), csrf)

    assert response.status_code == 422
    assert f'id="{field}-error"' in response.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', response.text)
    assert kept in response.text
    assert count_rows(pages.app.state.db, WRITES) == before  # type: ignore[attr-defined]


def test_ask_preview_shows_the_markdown_and_keeps_every_field(
    client: TestClient, pages: TestClient, people: People
) -> None:
    people.topic("pets")
    csrf = sign_in(pages, people.make("rep").username)
    before = count_rows(pages.app.state.db, WRITES)  # type: ignore[attr-defined]

    full = submit(pages, "/ask", _form(action="preview"), csrf)
    fragment = pages.post(
        "/ask",
        data={**_form(), "action": "preview"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )

    assert full.status_code == 200
    assert "Preview" in full.text and "<strong>pausing</strong>" in full.text
    assert 'value="Can a customer pause their pet cover?"' in full.text
    assert '<option value="pets" selected>' in full.text
    assert 'value="pause, abroad"' in full.text
    assert fragment.text.lstrip().startswith('<div id="ask-preview"')
    assert "<strong>pausing</strong>" in fragment.text and "<form" not in fragment.text
    assert count_rows(pages.app.state.db, WRITES) == before  # type: ignore[attr-defined]


def test_similar_questions_are_suggested_as_the_title_is_typed(
    pages: TestClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = FakeSearcher([_hit(7, "Pausing pet cover abroad", validated=True), _hit(9, "x<b>")])
    monkeypatch.setattr(pages.app.state, "searcher", searcher)  # type: ignore[attr-defined]
    sign_in(pages, people.make("rep").username)

    hints = pages.get("/ask/similar", params={"title": "pause pet"}, headers={"HX-Request": "true"})

    assert hints.status_code == 200
    assert hints.text.lstrip().startswith('<div id="similar-questions"')
    assert '<a href="/questions/7">Pausing pet cover abroad</a>' in hints.text
    assert "Validated answer" in hints.text
    assert "x&lt;b&gt;" in hints.text
    assert searcher.asked[0]["q"] == "pause pet"
    assert searcher.asked[0]["limit"] == 5


def test_hints_say_they_are_unavailable_when_search_is_down(
    pages: TestClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages.app.state, "searcher", FakeSearcher(None))  # type: ignore[attr-defined]
    people.topic("pets")
    csrf = sign_in(pages, people.make("rep").username)

    hints = pages.get("/ask/similar", params={"title": "pause pet"}, headers={"HX-Request": "true"})
    page = pages.get("/ask", params={"title": "pause pet"})
    posted = submit(pages, "/ask", _form(), csrf)

    assert hints.status_code == 200
    assert "hints are unavailable right now" in hints.text
    assert page.status_code == 200 and "hints are unavailable right now" in page.text
    assert posted.status_code == 303


def test_short_titles_ask_search_nothing(
    pages: TestClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = FakeSearcher([])
    monkeypatch.setattr(pages.app.state, "searcher", searcher)  # type: ignore[attr-defined]
    sign_in(pages, people.make("rep").username)

    hints = pages.get("/ask/similar", params={"title": "ab"}, headers={"HX-Request": "true"})

    assert hints.status_code == 200 and searcher.asked == []
    assert "<li>" not in hints.text


def test_hints_need_a_signed_in_contributor(
    pages: TestClient, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    searcher = FakeSearcher([_hit(1, "Secret thread")])
    monkeypatch.setattr(pages.app.state, "searcher", searcher)  # type: ignore[attr-defined]

    anonymous = pages.get("/ask/similar", params={"title": "secret"}, follow_redirects=False)
    sign_in(pages, people.make("compliance").username)
    officer = pages.get("/ask/similar", params={"title": "secret"})

    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert officer.status_code == 403
    assert searcher.asked == []


def test_compliance_may_not_ask(client: TestClient, pages: TestClient, people: People) -> None:
    people.topic("pets")
    csrf = sign_in(pages, people.make("compliance").username)
    before = count_rows(pages.app.state.db, WRITES)  # type: ignore[attr-defined]

    assert pages.get("/ask").status_code == 403
    assert submit(pages, "/ask", _form(), csrf).status_code == 403
    assert count_rows(pages.app.state.db, WRITES) == before  # type: ignore[attr-defined]


def test_editing_a_question_keeps_every_revision_with_its_differences(
    client: TestClient, pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic("pets"), title="Can cover be paused abroad?")["id"]
    csrf = sign_in(pages, rep.username)

    form = pages.get(f"/questions/{question}/edit")
    refused = submit(
        pages, f"/questions/{question}/edit", {"title": "Short", "body": "x", "tags": ""}, csrf
    )
    saved = submit(
        pages,
        f"/questions/{question}/edit",
        {"title": "Can pet cover be paused abroad?", "body": "Details here.", "tags": "abroad"},
        csrf,
    )
    thread = pages.get(saved.headers["location"]).text
    history = pages.get(f"/questions/{question}/revisions").text

    assert 'value="Can cover be paused abroad?"' in form.text
    assert refused.status_code == 422 and 'id="title-error"' in refused.text
    assert 'value="Short"' in refused.text
    assert saved.status_code == 303
    assert "Your changes are saved." in thread
    assert "Revision 1 (original)" in text_of(history) and "Revision 2" in text_of(history)
    assert "Can<ins> pet</ins> cover be paused abroad?" in history
    assert "<ins>abroad</ins>" in history
    assert "Body: unchanged" in text_of(history)


def test_only_the_author_or_an_admin_edits_a_question(
    client: TestClient, pages: TestClient, people: People
) -> None:
    author = people.make("rep")
    question = ask(client, author, people.topic("pets"))["id"]
    fields = {"title": "A title someone else wrote", "body": "Changed.", "tags": ""}

    csrf = sign_in(pages, people.make("rep").username)
    assert pages.get(f"/questions/{question}/edit").status_code == 403
    assert submit(pages, f"/questions/{question}/edit", fields, csrf).status_code == 403
    assert submit(pages, f"/questions/{question}/delete", {}, csrf).status_code == 403

    csrf = sign_in(pages, people.make("admin").username)
    assert submit(pages, f"/questions/{question}/edit", fields, csrf).status_code == 303
    assert "A title someone else wrote" in pages.get(f"/questions/{question}").text


def test_home_lists_questions_and_filters_by_topic(
    client: TestClient, pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    ask(client, rep, people.topic("pets"), title="A question about pets")
    ask(client, rep, people.topic("motor"), title="A question about cars")
    sign_in(pages, rep.username)

    everything = pages.get("/").text
    pets = pages.get("/", params={"topic": "pets"}).text

    assert "A question about pets" in everything and "A question about cars" in everything
    assert "A question about pets" in pets and "A question about cars" not in pets
