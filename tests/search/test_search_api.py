"""GET /search and GET /questions/similar against a real Meilisearch."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.answers.models import Answer
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.outbox.models import OutboxEntry
from app.questions.models import Question
from app.search_api.schemas import MAX_QUERY_CHARS
from tests.factories import People, Person, answer, ask
from tests.search.helpers import drain, hit_ids, search, set_state

pytestmark = pytest.mark.search


@pytest.fixture
def rep(people: People) -> Person:
    people.topic("claims")
    people.topic("billing")
    return people.make("rep")


def test_a_typo_still_finds_the_word(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    q = ask(client, rep, "claims", title="When is an endorsement added to a policy?")
    ask(client, rep, "claims", title="How do I reopen a closed claim?")
    drain(db, settings)

    assert hit_ids(search(client, rep, q="endorsment")) == [q["id"]]


def test_validated_filter_returns_only_threads_with_an_endorsed_or_corrected_answer(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    threads = {
        state: ask(client, rep, "claims", title=f"Windscreen repair question {state}")["id"]
        for state in ("endorsed", "corrected", "rejected", "unreviewed", "awaiting_endorsement")
    }
    for state, question_id in threads.items():
        a = answer(client, rep, question_id, "Use the approved glazier.")
        if state != "unreviewed":
            set_state(
                db, a["id"], state, correction="Use any glazier." if state == "corrected" else None
            )
    drain(db, settings)

    validated = search(client, rep, q="windscreen", validated="true")
    unvalidated = search(client, rep, q="windscreen", validated="false")

    assert sorted(hit_ids(validated)) == sorted([threads["endorsed"], threads["corrected"]])
    assert all(hit["validated"] for hit in validated["hits"])
    assert len(unvalidated["hits"]) == 3
    assert validated["facets"]["validated"] == {"true": 2}


@pytest.mark.parametrize("validated_first", [True, False])
def test_a_validated_thread_outranks_an_otherwise_equal_unvalidated_one(
    client: TestClient, rep: Person, db: Database, settings: Settings, validated_first: bool
) -> None:
    first = ask(client, rep, "claims", title="Can a policy be backdated?", body="Same words.")
    second = ask(client, rep, "claims", title="Can a policy be backdated?", body="Same words.")
    endorsed = first if validated_first else second
    for q in (first, second):
        a = answer(client, rep, q["id"], "Only with underwriter approval.")
        if q is endorsed:
            set_state(db, a["id"], "endorsed")
    drain(db, settings)

    hits = hit_ids(search(client, rep, q="backdated policy"))

    assert hits == [endorsed["id"], (second if validated_first else first)["id"]]


def test_validation_never_lifts_a_less_relevant_thread_above_a_better_match(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    exact = ask(client, rep, "claims", title="Subrogation after a motor claim")
    loose = ask(client, rep, "claims", title="Questions about claims", body="subrogation maybe")
    a = answer(client, rep, loose["id"], "Yes.")
    set_state(db, a["id"], "endorsed")
    drain(db, settings)

    assert hit_ids(search(client, rep, q="subrogation"))[0] == exact["id"]


def test_rejected_answer_text_does_not_make_a_thread_match_but_a_correction_does(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    q = ask(client, rep, "claims", title="Handling a disputed excess")
    wrong = answer(client, rep, q["id"], "Waive it with a flibbertigibbet form.")
    fixed = answer(client, rep, q["id"], "Refer it to the zugzwang team.")
    set_state(db, wrong["id"], "rejected")
    set_state(db, fixed["id"], "corrected", correction="Refer it to the ombudsman liaison.")
    drain(db, settings)

    assert hit_ids(search(client, rep, q="flibbertigibbet")) == []
    assert hit_ids(search(client, rep, q="zugzwang")) == []
    found = search(client, rep, q="ombudsman")
    assert hit_ids(found) == [q["id"]]
    best = found["hits"][0]["best_answer"]
    assert best["answer_id"] == fixed["id"] and best["state"] == "corrected"
    assert "ombudsman liaison" in best["excerpt"]


def test_filters_and_facets(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    a = ask(client, rep, "claims", title="Storm damage to a garden wall", tags=["storm", "home"])
    b = ask(client, rep, "billing", title="Storm damage refund timing", tags=["storm"])
    drain(db, settings)

    assert hit_ids(search(client, rep, q="storm", topic="billing")) == [b["id"]]
    assert hit_ids(search(client, rep, q="storm", tags=["storm", "home"])) == [a["id"]]
    assert hit_ids(search(client, rep, q="storm", status="resolved")) == []
    assert hit_ids(search(client, rep, q="storm", learning_need="true")) == []
    facets = search(client, rep, q="storm")["facets"]
    assert facets["topic"] == {"billing": 1, "claims": 1}
    assert facets["tags"] == {"home": 1, "storm": 2}
    assert facets["status"] == {"open": 2}


def test_highlights_mark_matches_and_escape_html(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    ask(
        client,
        rep,
        "claims",
        title="Is <script>alert(1)</script> covered?",
        body="The covered items are <b>listed</b> in the schedule.",
    )
    drain(db, settings)

    hit = search(client, rep, q="covered")["hits"][0]

    assert hit["highlights"]["title"] == (
        "Is &lt;script&gt;alert(1)&lt;/script&gt; <mark>covered</mark>?"
    )
    assert "<mark>covered</mark>" in hit["highlights"]["body"]
    assert "<b>" not in hit["highlights"]["body"]


def test_an_empty_query_lists_recent_threads_first(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    ids = [ask(client, rep, "claims", title=f"Recent question number {n}")["id"] for n in range(3)]
    with session_scope(db) as session:
        for age, question_id in enumerate(reversed(ids)):  # the last asked is the newest
            session.execute(
                update(Question)
                .where(Question.id == question_id)
                .values(created_at=utcnow() - timedelta(days=age))
            )
    drain(db, settings)

    result = search(client, rep)

    assert hit_ids(result) == list(reversed(ids))
    assert result["estimated_total"] == 3


def test_paging_with_limit_and_offset(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    for n in range(5):
        ask(client, rep, "claims", title=f"Paging question about mortgages {n}")
    drain(db, settings)

    first = hit_ids(search(client, rep, q="mortgages", limit=2))
    second = hit_ids(search(client, rep, q="mortgages", limit=2, offset=2))

    assert len(first) == len(second) == 2 and not set(first) & set(second)


def test_edits_and_deletions_reach_the_index(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    q = ask(client, rep, "claims", title="Original wording about caravans")
    drain(db, settings)
    client.patch(
        f"/questions/{q['id']}", json={"title": "New wording about motorhomes"}, headers=rep.headers
    )
    drain(db, settings)
    assert hit_ids(search(client, rep, q="caravans")) == []
    assert hit_ids(search(client, rep, q="motorhomes")) == [q["id"]]

    assert client.delete(f"/questions/{q['id']}", headers=rep.headers).status_code == 204
    drain(db, settings)
    assert hit_ids(search(client, rep, q="motorhomes")) == []


def test_similar_questions_are_found_by_title(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    q = ask(client, rep, "claims", title="How do I cancel a travel policy?")
    ask(client, rep, "claims", title="Changing the address on an account")
    drain(db, settings)

    response = client.get(
        "/questions/similar", params={"title": "cancel travel policy"}, headers=rep.headers
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["id"] for item in items] == [q["id"]]
    assert items[0]["topic"] == "claims" and items[0]["validated"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * (MAX_QUERY_CHARS + 1)},  # a longer URL still is a 414 (tests/limits)
        {"offset": -1},
        {"offset": 10**9},
        {"limit": 0},
        {"limit": 10**6},
        {"status": "deleted"},
        {"validated": "perhaps"},
        {"topic": 'claims" OR topic = "billing'},
        {"topic": "claims OR 1=1"},
        {"tags": ['storm" OR tags EXISTS']},
        {"tags": ["a", "b", "c", "d", "e", "f"]},
        {"sort": "random"},
    ],
    ids=lambda p: ",".join(f"{k}={str(v)[:20]}" for k, v in p.items()),
)
def test_bad_input_is_a_clear_422(client: TestClient, rep: Person, params: dict) -> None:
    response = client.get("/search", params=params, headers=rep.headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/validation-error"


@pytest.mark.parametrize(
    "q", ['" OR topic = "billing', "topic = billing", 'policy" OR 1=1 --', "\\", '"""', "-"]
)
def test_filter_syntax_in_the_query_is_only_text(
    client: TestClient, rep: Person, db: Database, settings: Settings, q: str
) -> None:
    ask(client, rep, "billing", title="A billing question nobody asked about")
    drain(db, settings)

    result = search(client, rep, q=q, topic="claims")

    assert result["hits"] == []


def test_an_unknown_topic_finds_nothing(
    client: TestClient, rep: Person, db: Database, settings: Settings
) -> None:
    ask(client, rep, "claims", title="Some question about claims")
    drain(db, settings)

    assert search(client, rep, topic="no-such-topic")["hits"] == []


def test_similar_needs_a_title(client: TestClient, rep: Person) -> None:
    assert client.get("/questions/similar", headers=rep.headers).status_code == 422
    long_title = {"title": "t" * 201}
    response = client.get("/questions/similar", params=long_title, headers=rep.headers)
    assert response.status_code == 422


def test_an_expert_endorsement_through_the_api_makes_the_thread_validated(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep = people.make("rep")
    expert = people.make("expert", topics=("claims",))
    q = ask(client, rep, "claims", title="Can a named driver be removed mid-term?")
    a = answer(client, rep, q["id"], "Yes, with a mid-term adjustment.")
    drain(db, settings)
    assert search(client, rep, q="named driver", validated="true")["hits"] == []

    review = client.post(
        f"/answers/{a['id']}/reviews", json={"verdict": "endorse"}, headers=expert.headers
    )
    drain(db, settings)

    assert review.status_code == 201, review.text
    assert hit_ids(search(client, rep, q="named driver", validated="true")) == [q["id"]]


def test_a_thread_that_opens_a_learning_need_is_found_by_that_filter(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims")
    rep, other = people.make("rep"), people.make("rep")
    expert = people.make("expert", topics=("claims",))
    q = ask(client, rep, "claims", title="Is flood damage covered for a basement flat?")
    wrong = [answer(client, other, q["id"], f"Always covered, reason {n}.") for n in range(2)]
    for a in wrong:  # two wrong answers open the thread's learning-need signal
        response = client.post(
            f"/answers/{a['id']}/reviews",
            json={"verdict": "reject", "rationale": "Depends on the flood exclusion."},
            headers=expert.headers,
        )
        assert response.status_code == 201, response.text
    drain(db, settings)

    result = search(client, rep, q="basement flood", learning_need="true")

    assert hit_ids(result) == [q["id"]]
    assert result["hits"][0]["learning_need"] is True
    assert result["facets"]["learning_need"] == {"true": 1}


def test_a_thread_whose_endorsement_goes_stale_is_reindexed_then_as_not_validated(
    client: TestClient, people: People, db: Database, settings: Settings
) -> None:
    people.topic("claims", review_interval_days=30)
    rep = people.make("rep")
    expert = people.make("expert", topics=("claims",))
    q = ask(client, rep, "claims", title="Does a courtesy car come with every claim?")
    a = answer(client, rep, q["id"], "Only with the comprehensive cover.")
    review = client.post(
        f"/answers/{a['id']}/reviews", json={"verdict": "endorse"}, headers=expert.headers
    )
    assert review.status_code == 201, review.text
    drain(db, settings)
    assert hit_ids(search(client, rep, q="courtesy car", validated="true")) == [q["id"]]
    # The re-index waits for the endorsement to go stale; it is not a backlog meanwhile.
    assert drain(db, settings) == 0
    assert client.get("/readyz").json()["outbox_backlog"] == 0

    # Thirty days pass: move the endorsement, and everything scheduled, thirty days back.
    month = timedelta(days=30, seconds=1)
    with session_scope(db) as session:
        endorsed = session.get_one(Answer, a["id"])
        assert endorsed.stale_at is not None
        endorsed.stale_at -= month
        for row in session.query(OutboxEntry).filter(OutboxEntry.done_at.is_(None)):
            row.available_at -= month
    assert drain(db, settings) == 1

    assert search(client, rep, q="courtesy car", validated="true")["hits"] == []
    hit = search(client, rep, q="courtesy car")["hits"][0]
    assert (hit["id"], hit["validated"], hit["best_answer"]) == (q["id"], False, None)
