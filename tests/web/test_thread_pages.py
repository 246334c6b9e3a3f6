"""The thread page and the answer pages, through the web pages as a browser without
JavaScript uses them: what each reader sees, and every form's refusals in place."""

import re
from datetime import timedelta
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.db import Database, session_scope, utcnow
from app.reviews.models import Review
from tests.factories import (
    People,
    Person,
    answer,
    ask,
    count_rows,
    flag,
    open_thread_signal,
    reject,
    review,
)
from tests.questions.test_thread_queries import counting_queries
from tests.web.helpers import csrf_of, sign_in, submit

WRITES = ("answers", "answer_revisions", "comments", "flags", "votes", "audit_events")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """The page's text as a reader sees it: tags gone, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return " ".join("".join(parser.parts).split())


def answer_order(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="answer[^"]*" id="answer-(\d+)"', html)]


def card_of(html: str, answer_id: int) -> str:
    """The text of one answer card."""
    start = html.index(f'id="answer-{answer_id}"')
    return text_of(html[start : html.index("</article>", start)])


def test_every_answer_state_is_shown_plainly_in_trust_order(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    topic = people.topic("motor", required_endorsements=2)
    first, second = people.make("expert", topics=(topic,)), people.make("expert", topics=(topic,))
    asker, author, reader = people.make("rep"), people.make("rep"), people.make("rep")
    question = ask(client, asker, topic, title="Is a cracked windscreen covered?")["id"]
    rejected = answer(client, author, question, "Never covered.")["id"]
    unreviewed = answer(client, author, question, "Ask the customer for photos.")["id"]
    awaiting = answer(client, author, question, "Covered with the glass add-on.")["id"]
    corrected = answer(client, author, question, "Always covered in full.")["id"]
    endorsed = answer(client, author, question, "Covered under comprehensive cover.")["id"]
    review(client, first, endorsed, "endorse")
    review(client, second, endorsed, "endorse")
    review(client, first, awaiting, "endorse")
    review(
        client,
        second,
        corrected,
        "correct",
        rationale="The excess still applies.",
        correction="Covered, less the glass excess.",
    )
    reject(client, first, rejected)
    flag(client, reader, unreviewed, "Photos are not needed for glass.")

    sign_in(pages, reader.username)
    html = pages.get(f"/questions/{question}").text

    assert answer_order(html)[:2] in ([endorsed, corrected], [corrected, endorsed])
    assert answer_order(html)[2:4] in ([awaiting, unreviewed], [unreviewed, awaiting])
    assert answer_order(html)[-1] == rejected
    assert re.search(
        r"Endorsed by Expert\d+ and Expert\d+ on \d+ \w+ \d{4}", card_of(html, endorsed)
    )
    shown = card_of(html, corrected)
    assert re.search(r"Correction by Expert\d+, \d+ \w+ \d{4}", shown)
    assert shown.index("Covered, less the glass excess.") < shown.index("Original answer by")
    assert "The excess still applies." in shown
    assert "Awaiting endorsement (1 of 2)" in card_of(html, awaiting)
    assert "Not yet reviewed by an expert" in card_of(html, unreviewed)
    assert "1 open flag" in card_of(html, unreviewed)
    assert re.search(
        r'<details class="rejected">\s*<summary[^>]*><strong>Rejected by Expert\d+:</strong> '
        r"Not what the policy says\.",
        html,
    )


def test_a_stale_endorsement_says_when_it_was_last_endorsed(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    topic = people.topic("pets", review_interval_days=30)
    expert, rep = people.make("expert", topics=(topic,)), people.make("rep")
    question = ask(client, rep, topic)["id"]
    old = answer(client, rep, question, "Vet fees are covered up to the limit.")["id"]
    review(client, expert, old, "endorse")
    long_ago = utcnow() - timedelta(days=40)
    with session_scope(db) as session:
        session.execute(update(Review).where(Review.answer_id == old).values(created_at=long_ago))
        session.execute(
            update(Answer)
            .where(Answer.id == old)
            .values(last_endorsed_at=long_ago, stale_at=long_ago + timedelta(days=30))
        )

    sign_in(pages, rep.username)
    shown = card_of(pages.get(f"/questions/{question}").text, old)

    assert f"last endorsed {long_ago.day} {long_ago:%b %Y}" in shown
    assert "Endorsement due for review" in shown


def test_thread_shows_signposts_learning_need_and_comments(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    topic = people.topic("home")
    expert, rep = people.make("expert", topics=(topic,)), people.make("rep")
    response = client.post(
        f"/topics/{topic}/resources",
        json={
            "title": "Home claims handbook",
            "url": "https://intranet.example/home",
            "description": "What the policy covers, section by section.",
        },
        headers=expert.headers,
    )
    assert response.status_code == 201, response.text
    question = ask(client, rep, topic)["id"]
    client.post(
        f"/questions/{question}/comments", json={"body": "Which policy?"}, headers=expert.headers
    )
    open_thread_signal(db, question)

    sign_in(pages, rep.username)
    page = text_of(pages.get(f"/questions/{question}").text)

    assert "Signposts for Home" in page
    assert "Home claims handbook" in page
    assert "What the policy covers, section by section." in page
    assert "Learning need: this question has drawn 2 wrong answers" in page
    assert "Which policy?" in page


def test_votes_edit_and_delete_are_offered_only_where_allowed(
    client: TestClient, pages: TestClient, people: People
) -> None:
    topic = people.topic("travel")
    rep, other = people.make("rep"), people.make("rep")
    question = ask(client, rep, topic)["id"]
    mine = answer(client, rep, question, "My own answer.")["id"]
    theirs = answer(client, other, question, "Someone else's answer.")["id"]

    sign_in(pages, rep.username)
    html = pages.get(f"/questions/{question}").text

    assert f'action="/answers/{theirs}/vote"' in html
    assert f'action="/answers/{mine}/vote"' not in html
    assert f'href="/answers/{mine}/edit"' in html
    assert f'href="/answers/{theirs}/edit"' not in html
    assert f'action="/answers/{theirs}/flag"' in html
    assert f'href="/questions/{question}/edit"' in html
    assert 'id="your-answer"' in html


def test_compliance_reads_the_thread_without_any_write_control(
    client: TestClient, pages: TestClient, people: People
) -> None:
    topic = people.topic("life")
    rep, officer = people.make("rep"), people.make("compliance")
    question = ask(client, rep, topic)["id"]
    answer(client, rep, question, "An answer to read.")

    sign_in(pages, officer.username)
    html = pages.get(f"/questions/{question}").text

    assert "An answer to read." in html
    assert not re.search(r'<form method="post" action="/(questions|answers)/', html)
    assert "Your answer" not in html
    assert "Add a comment" not in html


def test_unknown_and_garbled_thread_ids_are_404_pages(
    client: TestClient, pages: TestClient, people: People
) -> None:
    sign_in(pages, people.make("rep").username)
    for path in ("/questions/999999", "/questions/abc", "/questions/0", "/answers/99999/edit"):
        response = pages.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]


def test_deleted_question_is_a_404_page(
    client: TestClient, pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic("gone"))["id"]
    csrf = sign_in(pages, rep.username)

    response = submit(pages, f"/questions/{question}/delete", {}, csrf)

    assert response.status_code == 303 and response.headers["location"] == "/"
    assert pages.get(f"/questions/{question}").status_code == 404


def test_answering_posts_the_answer_and_returns_to_it(
    client: TestClient, pages: TestClient, people: People
) -> None:
    asker, rep = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic("claims"))["id"]
    csrf = sign_in(pages, rep.username)

    response = submit(
        pages, f"/questions/{question}/answers", {"body": "Check the **schedule**."}, csrf
    )

    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(rf"/questions/{question}#answer-\d+", location)
    html = pages.get(location).text
    assert "Your answer is posted." in html
    assert "Check the <strong>schedule</strong>." in html


def test_a_refused_answer_shows_the_error_beside_the_field_and_writes_nothing(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    asker, rep = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic("claims"))["id"]
    csrf = sign_in(pages, rep.username)
    before = count_rows(db, WRITES)

    response = submit(pages, f"/questions/{question}/answers", {"body": "   "}, csrf)

    assert response.status_code == 422
    assert 'id="body-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert count_rows(db, WRITES) == before

    too_long = "x" * 20_001
    response = submit(pages, f"/questions/{question}/answers", {"body": too_long}, csrf)
    assert response.status_code == 422
    assert too_long in response.text
    assert count_rows(db, WRITES) == before


def test_answer_preview_renders_markdown_and_keeps_the_text(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    asker, rep = people.make("rep"), people.make("rep")
    question = ask(client, asker, people.topic("claims"))["id"]
    csrf = sign_in(pages, rep.username)
    before = count_rows(db, WRITES)
    text = "Use *form B* <script>alert(1)</script>"

    full = submit(
        pages, f"/questions/{question}/answers", {"body": text, "action": "preview"}, csrf
    )
    fragment = pages.post(
        f"/questions/{question}/answers",
        data={"body": text, "action": "preview"},
        headers={"HX-Request": "true", "X-CSRF-Token": csrf},
    )

    assert full.status_code == 200
    assert "<em>form B</em>" in full.text
    assert "Use *form B* &lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in full.text
    assert "<script>alert(1)" not in full.text
    assert fragment.text.lstrip().startswith('<div id="answer-preview"')
    assert "<em>form B</em>" in fragment.text and "<html" not in fragment.text
    assert count_rows(db, WRITES) == before


def test_voting_records_the_vote_and_marks_it_pressed(
    client: TestClient, pages: TestClient, people: People
) -> None:
    author, voter = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question)["id"]
    csrf = sign_in(pages, voter.username)

    response = submit(pages, f"/answers/{theirs}/vote", {"value": "1"}, csrf)

    assert response.status_code == 303
    assert response.headers["location"] == f"/questions/{question}#answer-{theirs}"
    html = pages.get(response.headers["location"]).text
    assert "You voted this answer up." in html
    assert re.search(r'aria-label="Vote up" aria-pressed="true"', html)
    assert re.search(r'class="vote__score"[^>]*>1<', html)


def test_each_reader_sees_only_their_own_votes(
    client: TestClient, pages: TestClient, people: People
) -> None:
    author, up, down, neither = (people.make("rep") for _ in range(4))
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question)["id"]
    for voter, value in ((up, "1"), (down, "-1")):
        assert (
            submit(
                pages, f"/answers/{theirs}/vote", {"value": value}, sign_in(pages, voter.username)
            ).status_code
            == 303
        )

    pressed = {}
    for reader in (up, down, neither):
        sign_in(pages, reader.username)
        html = pages.get(f"/questions/{question}").text
        pressed[reader.username] = (
            'aria-label="Vote up" aria-pressed="true"' in html,
            'aria-label="Vote down" aria-pressed="true"' in html,
        )
        assert re.search(r'class="vote__score"[^>]*>0<', html)  # one up, one down
    assert pressed == {
        up.username: (True, False),
        down.username: (False, True),
        neither.username: (False, False),
    }
    # Other people's votes never repeat an answer in the thread.
    thread = client.get(f"/questions/{question}", headers=author.headers).json()
    assert [a["id"] for a in thread["answers"]] == [theirs]


def test_refused_votes_write_nothing(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    author, voter = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question)["id"]
    mine = answer(client, voter, question)["id"]
    csrf = sign_in(pages, voter.username)
    before = count_rows(db, WRITES)

    bad_value = submit(pages, f"/answers/{theirs}/vote", {"value": "5"}, csrf)
    own = submit(pages, f"/answers/{mine}/vote", {"value": "1"}, csrf)
    no_csrf = pages.post(f"/answers/{theirs}/vote", data={"value": "1"})

    assert bad_value.status_code == 422
    assert "A vote is up (1) or down (-1)." in bad_value.text
    assert own.status_code == 403 and "text/html" in own.headers["content-type"]
    assert no_csrf.status_code == 403
    assert count_rows(db, WRITES) == before


def test_flagging_twice_is_refused_beside_the_reason(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    author, rep = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question)["id"]
    csrf = sign_in(pages, rep.username)

    empty = submit(pages, f"/answers/{theirs}/flag", {"reason": ""}, csrf)
    first = submit(pages, f"/answers/{theirs}/flag", {"reason": "Out of date."}, csrf)
    before = count_rows(db, WRITES)
    again = submit(pages, f"/answers/{theirs}/flag", {"reason": "Still wrong."}, csrf)

    assert empty.status_code == 422 and 'id="reason-error"' in empty.text
    assert first.status_code == 303
    assert again.status_code == 409
    assert "You have already flagged this answer" in again.text
    assert 'value="Still wrong."' in again.text
    assert count_rows(db, WRITES) == before
    html = pages.get(f"/questions/{question}").text
    assert "1 open flag" in card_of(html, theirs)


def test_comments_on_question_and_answer(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    author, rep = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question)["id"]
    csrf = sign_in(pages, rep.username)

    on_question = submit(pages, f"/questions/{question}/comments", {"body": "Which brand?"}, csrf)
    on_answer = submit(pages, f"/answers/{theirs}/comments", {"body": "Source, please."}, csrf)
    before = count_rows(db, WRITES)
    refused = submit(pages, f"/answers/{theirs}/comments", {"body": "x" * 5001}, csrf)

    assert on_question.status_code == on_answer.status_code == 303
    html = pages.get(f"/questions/{question}").text
    assert "Which brand?" in html
    assert "Source, please." in card_of(html, theirs)
    assert refused.status_code == 422
    assert f'id="comment-answer-{theirs}"' in refused.text and "x" * 5001 in refused.text
    assert 'id="body-error"' in refused.text
    assert count_rows(db, WRITES) == before


def test_editing_an_endorsed_answer_warns_then_keeps_the_revision(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    topic = people.topic("claims")
    expert, rep = people.make("expert", topics=(topic,)), people.make("rep")
    question = ask(client, rep, topic)["id"]
    mine = answer(client, rep, question, "The excess is 100 pounds.")["id"]
    review(client, expert, mine, "endorse")
    csrf = sign_in(pages, rep.username)

    form = pages.get(f"/answers/{mine}/edit")
    before = count_rows(db, WRITES)
    refused = submit(pages, f"/answers/{mine}/edit", {"body": ""}, csrf)
    saved = submit(pages, f"/answers/{mine}/edit", {"body": "The excess is 250 pounds."}, csrf)

    assert "saving a change returns the answer to “Not yet reviewed”" in text_of(form.text)
    assert refused.status_code == 422 and 'id="body-error"' in refused.text
    assert saved.status_code == 303
    assert count_rows(db, WRITES)["answer_revisions"] == before["answer_revisions"] + 1
    assert "Not yet reviewed by an expert" in card_of(
        pages.get(f"/questions/{question}").text, mine
    )
    history = pages.get(f"/answers/{mine}/revisions").text
    assert "Revision 2" in history
    assert "<del>100</del><ins>250</ins>" in history


def test_others_may_not_edit_or_delete_an_answer(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    author, rep = people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question)["id"]
    csrf = sign_in(pages, rep.username)
    before = count_rows(db, WRITES)

    assert pages.get(f"/answers/{theirs}/edit").status_code == 403
    assert submit(pages, f"/answers/{theirs}/edit", {"body": "Mine now."}, csrf).status_code == 403
    assert submit(pages, f"/answers/{theirs}/delete", {}, csrf).status_code == 403
    assert count_rows(db, WRITES) == before


def test_admin_deletes_any_answer_and_it_leaves_the_thread(
    client: TestClient, pages: TestClient, people: People
) -> None:
    author, admin = people.make("rep"), people.make("admin")
    question = ask(client, author, people.topic("claims"))["id"]
    theirs = answer(client, author, question, "To be removed.")["id"]
    csrf = sign_in(pages, admin.username)

    response = submit(pages, f"/answers/{theirs}/delete", {}, csrf)

    assert response.status_code == 303
    html = pages.get(f"/questions/{question}").text
    assert "The answer is deleted." in html
    assert "To be removed." not in html


def test_revision_history_escapes_what_was_written(
    client: TestClient, pages: TestClient, people: People
) -> None:
    rep = people.make("rep")
    question = ask(client, rep, people.topic("claims"))["id"]
    mine = answer(client, rep, question, "Plain text.")["id"]
    client.patch(f"/answers/{mine}", json={"body": "Plain <b>bold</b> text."}, headers=rep.headers)
    sign_in(pages, rep.username)

    history = pages.get(f"/answers/{mine}/revisions").text

    assert "<ins>&lt;b&gt;bold&lt;/b&gt; </ins>" in history
    assert "<b>bold</b>" not in history
    assert pages.get(f"/answers/{mine}/revisions?cursor=garbage").status_code == 400


def _grow(
    client: TestClient, people: list[Person], expert: Person, question_id: int, answers: int
) -> None:
    for n in range(answers):
        author = people[n % len(people)]
        created = answer(client, author, question_id, body=f"Answer number {n}.")["id"]
        client.post(
            f"/answers/{created}/comments",
            json={"body": "Noted."},
            headers=people[(n + 1) % len(people)].headers,
        )
        review(client, expert, created, ("endorse", "reject")[n % 2], rationale="Checked.")


def test_thread_page_query_count_does_not_grow_with_answers(
    client: TestClient, pages: TestClient, people: People, db: Database
) -> None:
    topic = people.topic("claims")
    expert = people.make("expert", topics=(topic,))
    authors = [people.make("rep") for _ in range(3)]
    reader = people.make("rep")
    small = ask(client, authors[0], topic)["id"]
    large = ask(client, authors[1], topic)["id"]
    _grow(client, authors, expert, small, answers=2)
    _grow(client, authors, expert, large, answers=20)
    sign_in(pages, reader.username)

    with counting_queries(db) as small_queries:
        assert pages.get(f"/questions/{small}").status_code == 200
    with counting_queries(db) as large_queries:
        large_page = pages.get(f"/questions/{large}").text

    assert len(answer_order(large_page)) == 20
    assert len(large_queries) == len(small_queries)
    assert len(small_queries) <= 12


def test_signed_out_visitor_is_sent_to_sign_in(client: TestClient, pages: TestClient) -> None:
    response = pages.get("/questions/1", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")
    assert csrf_of(pages.get("/login").text)


def test_readers_share_answer_cards_yet_each_posts_their_own_csrf_token(
    client: TestClient, pages: TestClient, people: People
) -> None:
    author, first, second = people.make("rep"), people.make("rep"), people.make("rep")
    question = ask(client, author, people.topic("claims"))["id"]
    for n in range(3):
        answer(client, author, question, f"Answer number {n} to share.")

    tokens = {}
    for reader in (first, second):
        csrf = sign_in(pages, reader.username)
        html = pages.get(f"/questions/{question}").text
        tokens[reader.username] = csrf
        posted = set(re.findall(r'name="csrf_token" value="([^"]*)"', html))
        assert posted == {csrf}, "every form on the page carries this reader's token"
        vote = submit(pages, f"/answers/{answer_order(html)[0]}/vote", {"value": "1"}, csrf)
        assert vote.status_code == 303

    assert tokens[first.username] != tokens[second.username]


def test_a_card_shows_every_change_at_once(
    client: TestClient, pages: TestClient, people: People
) -> None:
    topic = people.topic("claims")
    author, reader, voter = people.make("rep"), people.make("rep"), people.make("rep")
    expert = people.make("expert", topics=(topic,))
    question = ask(client, author, topic)["id"]
    theirs = answer(client, author, question, "Check the schedule first.")["id"]
    sign_in(pages, reader.username)
    before = card_of(pages.get(f"/questions/{question}").text, theirs)
    assert "Not yet reviewed" in before

    client.post(f"/answers/{theirs}/votes", json={"value": 1}, headers=voter.headers)
    after_vote = pages.get(f"/questions/{question}").text
    client.post(
        f"/answers/{theirs}/comments", json={"body": "Which schedule?"}, headers=voter.headers
    )
    after_comment = card_of(pages.get(f"/questions/{question}").text, theirs)
    review(client, expert, theirs, "endorse")
    after_review = card_of(pages.get(f"/questions/{question}").text, theirs)

    assert re.search(r'class="vote__score"[^>]*>1<', after_vote)
    assert "Which schedule?" in after_comment
    assert "Endorsed by" in after_review and "Which schedule?" in after_review
