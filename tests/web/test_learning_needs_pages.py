"""The learning-needs page: signals with their history, their steps, and the chart of each
topic's weekly wrong-answer rate."""

import html
import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from app.db import Database, session_scope, utcnow
from app.reviews.models import Review
from app.signals.trend import WeekRate, week_starts, weekly_series
from app.web.learning_needs import TopicLabel, wrong_rate_chart
from tests.factories import People, Person, answer, ask, count_rows, reject, review
from tests.questions.test_thread_queries import counting_queries
from tests.web.helpers import sign_in, submit


@dataclass
class Signal:
    """A thread of `claims` with two rejected answers (so an open thread signal), the
    expert who rejected them, and a rep."""

    expert: Person
    rep: Person
    question_id: int
    need_id: int


def wrong_thread(client: TestClient, expert: Person, rep: Person, topic: str, title: str) -> int:
    question = ask(client, rep, topic, title=title)["id"]
    for body in ("Cover lapses after a day.", "Cover never lapses."):
        reject(client, expert, answer(client, rep, question, body)["id"])
    return int(question)


@pytest.fixture
def signal(client: TestClient, people: People) -> Signal:
    expert = people.make("expert", topics=("claims",), username="erin")
    rep = people.make("rep")
    question = wrong_thread(client, expert, rep, "claims", "When does cover lapse?")
    needs = client.get("/learning-needs", headers=rep.headers).json()["items"]
    return Signal(expert, rep, question, needs[0]["id"])


def card(page: str, need_id: int) -> str:
    start = page.index(f'id="need-{need_id}"')
    return html.unescape(page[start : page.index("</article>", start)])


def status_of(client: TestClient, reader: Person, need_id: int) -> str:
    items = client.get("/learning-needs", headers=reader.headers).json()["items"]
    return str(next(n["status"] for n in items if n["id"] == need_id))


def test_signal_shows_its_kind_thread_counts_and_history(pages: TestClient, signal: Signal) -> None:
    sign_in(pages, signal.rep.username)
    shown = card(pages.get("/learning-needs").text, signal.need_id)
    assert f'<a href="/questions/{signal.question_id}">When does cover lapse?</a>' in shown
    assert "Thread signal" in shown and "Claims" in shown
    assert "2 wrong of 2 reviewed answers on this thread" in shown
    assert ">Open</span>" in shown
    assert "<strong>Opened</strong>" in shown and "automatically" in shown
    assert "(2 of 2 reviewed answers wrong)" in shown
    # A rep reads the signal; only an expert of the topic or an admin handles it.
    assert "Acknowledge" not in shown and "Mark addressed" not in shown


def test_text_people_wrote_is_shown_as_text(
    client: TestClient, pages: TestClient, signal: Signal
) -> None:
    title = "<script>alert('need')</script> cover?"
    wrong_thread(client, signal.expert, signal.rep, "claims", title)
    client.post(
        f"/learning-needs/{signal.need_id}/acknowledge",
        json={"note": "<script>alert('note')</script> [x](javascript:alert(3))"},
        headers=signal.expert.headers,
    )
    sign_in(pages, signal.rep.username)
    page = pages.get("/learning-needs").text
    assert "<script>" not in page and "&lt;script&gt;alert(&#39;need&#39;)" in page
    assert 'href="javascript:' not in page  # left as text, never a link


@pytest.mark.parametrize(
    ("roles", "topics", "handles"),
    [
        (("expert",), ("claims",), True),
        (("admin",), (), True),
        (("expert",), ("motor",), False),
        (("compliance",), (), False),
    ],
    ids=["expert-of-topic", "admin", "expert-of-other-topic", "compliance"],
)
def test_forms_are_offered_to_whoever_may_handle_the_signal(
    people: People,
    pages: TestClient,
    signal: Signal,
    roles: tuple[str],
    topics: tuple[str],
    handles: bool,
) -> None:
    sign_in(pages, people.make(*roles, topics=topics).username)
    shown = card(pages.get("/learning-needs").text, signal.need_id)
    assert ("Acknowledge: what you will look into" in shown) is handles
    assert ("What was done" in shown) is handles


def test_expert_acknowledges_then_addresses_with_a_note(
    client: TestClient, pages: TestClient, signal: Signal
) -> None:
    csrf = sign_in(pages, signal.expert.username)
    response = submit(
        pages,
        f"/learning-needs/{signal.need_id}/acknowledge",
        {"note": "Looking at the lapse rules."},
        csrf,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/learning-needs#need-{signal.need_id}"
    page = html.unescape(pages.get("/learning-needs").text)
    assert "Acknowledged the learning need on “When does cover lapse?”." in page
    shown = card(page, signal.need_id)
    assert "<strong>Acknowledged</strong>" in shown and ">Erin</a>" in shown
    assert "Looking at the lapse rules." in shown
    assert "Acknowledge: what you will look into" not in shown  # that step is done

    note = "Added [lapse training](https://lms.example/lapses) to onboarding."
    response = submit(pages, f"/learning-needs/{signal.need_id}/address", {"note": note}, csrf)
    assert response.status_code == 303
    shown = card(pages.get("/learning-needs").text, signal.need_id)
    assert "<strong>Marked" not in shown and "<strong>Addressed</strong>" in shown
    assert (
        '<a href="https://lms.example/lapses" rel="nofollow noopener">lapse training</a>' in shown
    )
    assert "What was done" not in shown
    assert status_of(client, signal.rep, signal.need_id) == "addressed"


@pytest.mark.parametrize("step", ["acknowledge", "address"])
@pytest.mark.parametrize("note", ["", "   ", "n" * 5_001], ids=["empty", "blank", "too-long"])
def test_refused_note_is_shown_beside_the_field_and_writes_nothing(
    pages: TestClient, db: Database, signal: Signal, step: str, note: str
) -> None:
    csrf = sign_in(pages, signal.expert.username)
    before = count_rows(db)
    response = submit(pages, f"/learning-needs/{signal.need_id}/{step}", {"note": note}, csrf)
    assert response.status_code == 422
    assert count_rows(db) == before
    shown = card(response.text, signal.need_id)
    form = shown[shown.index(f"/learning-needs/{signal.need_id}/{step}") :]
    form = form[: form.index("</form>")]
    assert 'id="note-error"' in form and 'aria-invalid="true"' in form
    if note.strip():
        assert note in form  # what was typed is kept


def test_step_already_taken_shows_why_and_writes_nothing(
    client: TestClient, pages: TestClient, db: Database, signal: Signal
) -> None:
    client.post(
        f"/learning-needs/{signal.need_id}/address",
        json={"note": "Done elsewhere."},
        headers=signal.expert.headers,
    )
    csrf = sign_in(pages, signal.expert.username)
    before = count_rows(db)
    response = submit(
        pages, f"/learning-needs/{signal.need_id}/acknowledge", {"note": "On it."}, csrf
    )
    assert response.status_code == 409
    assert "it cannot be acknowledged now" in card(response.text, signal.need_id)
    assert count_rows(db) == before


@pytest.mark.parametrize(
    ("roles", "topics"), [(("rep",), ()), (("expert",), ("motor",)), (("compliance",), ())]
)
def test_only_an_expert_of_the_topic_or_an_admin_takes_a_step(
    people: People,
    pages: TestClient,
    db: Database,
    signal: Signal,
    roles: tuple[str],
    topics: tuple[str],
) -> None:
    csrf = sign_in(pages, people.make(*roles, topics=topics).username)
    before = count_rows(db)
    response = submit(
        pages, f"/learning-needs/{signal.need_id}/acknowledge", {"note": "Mine now."}, csrf
    )
    assert response.status_code == 403
    assert "text/html" in response.headers["content-type"]
    assert count_rows(db) == before


@pytest.mark.parametrize(
    "path", ["/learning-needs/999999/acknowledge", "/learning-needs/x/address"]
)
def test_step_on_an_unknown_signal_is_404(pages: TestClient, signal: Signal, path: str) -> None:
    csrf = sign_in(pages, signal.expert.username)
    assert submit(pages, path, {"note": "Hm."}, csrf).status_code == 404


def test_filters_narrow_the_list_and_a_blank_filter_is_no_filter(
    client: TestClient, people: People, pages: TestClient, signal: Signal
) -> None:
    motor_expert = people.make("expert", topics=("motor",))
    wrong_thread(client, motor_expert, signal.rep, "motor", "Is a courtesy car included?")
    client.post(
        f"/learning-needs/{signal.need_id}/acknowledge",
        json={"note": "Seen."},
        headers=signal.expert.headers,
    )
    sign_in(pages, signal.rep.username)

    def titles(**params: str) -> set[str]:
        response = pages.get("/learning-needs", params=params)
        assert response.status_code == 200
        return set(re.findall(r'<a href="/questions/\d+">([^<]+)</a>', response.text))

    both = {"When does cover lapse?", "Is a courtesy car included?"}
    assert titles() == both
    assert titles(status="", topic="", kind="") == both
    assert titles(topic="motor") == {"Is a courtesy car included?"}
    assert titles(status="acknowledged") == {"When does cover lapse?"}
    assert titles(kind="topic") == set()


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"status": "closed"}, 422),
        ({"kind": "everything"}, 422),
        ({"topic": "no-such-topic"}, 404),
        ({"topic": "../etc"}, 422),
        ({"cursor": "garbage"}, 400),
    ],
    ids=str,
)
def test_hostile_filters_are_a_4xx_page(
    pages: TestClient, signal: Signal, params: dict[str, str], status: int
) -> None:
    sign_in(pages, signal.rep.username)
    response = pages.get("/learning-needs", params=params)
    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]


def backdate_reviews(db: Database, answer_id: int, days: int) -> None:
    with session_scope(db) as session:
        session.execute(
            update(Review)
            .where(Review.answer_id == answer_id)
            .values(created_at=utcnow() - timedelta(days=days))
        )


def test_chart_shows_each_weeks_wrong_answers_of_reviewed_ones(
    client: TestClient, people: People, pages: TestClient, db: Database
) -> None:
    expert = people.make("expert", topics=("travel",))
    rep = people.make("rep")
    question = ask(client, rep, "travel")["id"]
    this_week = [answer(client, rep, question, f"Answer {n}.")["id"] for n in range(3)]
    reject(client, expert, this_week[0])
    review(client, expert, this_week[0], "endorse")  # one answer, reviewed twice: counted once
    review(client, expert, this_week[1], "endorse")
    review(client, expert, this_week[2], "correct", rationale="Not quite.", correction="Exactly.")
    earlier = answer(client, rep, question, "Earlier.")["id"]
    reject(client, expert, earlier)
    backdate_reviews(db, earlier, 21)
    ancient = answer(client, rep, question, "Ancient.")["id"]
    reject(client, expert, ancient)
    backdate_reviews(db, ancient, 7 * 13)

    sign_in(pages, expert.username)
    page = html.unescape(pages.get("/learning-needs", params={"topic": "travel"}).text)
    starts = week_starts(utcnow())
    table = page[page.index("<caption>Wrong answers per week, Travel</caption>") :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><th scope=\"row\">([^<]+)</th><td>(\d+)</td><td>(\d+)</td>", table)
    assert len(rows) == 12
    by_week = {week: (int(reviewed), int(wrong)) for week, reviewed, wrong in rows}
    day = f"{starts[-1].day} {starts[-1]:%b}"
    assert by_week[day] == (3, 2)
    three_weeks_ago = f"{starts[-4].day} {starts[-4]:%b}"
    assert by_week[three_weeks_ago] == (1, 1)
    assert sum(reviewed for reviewed, _ in by_week.values()) == 4  # the ancient one is out
    assert "2 of 3 wrong (67%); threshold 40%." in page  # the chart's own summary
    assert 'class="threshold"' in page


def test_chart_line_breaks_where_a_week_had_no_reviews() -> None:
    starts = week_starts(utcnow(), weeks=5)
    weeks = weekly_series(starts, {1: (2, 1), 2: (4, 1), 4: (1, 1)})
    assert [w.rate for w in weeks] == [None, 0.5, 0.25, None, 1.0]
    chart = wrong_rate_chart(TopicLabel(1, "claims", "Claims"), weeks, 0.4)
    assert chart.path.count("M") == 2 and chart.path.count("L") == 1
    assert [p.count for p in chart.points] == ["1/2", "1/4", "1/1"]
    # 100 % is the top of the plot, 0 % its bottom, the threshold in between.
    assert chart.points[2].y < chart.threshold_y < chart.points[1].y


def test_week_without_reviews_has_no_rate_rather_than_zero() -> None:
    assert WeekRate(utcnow(), 0, 0).rate is None
    assert WeekRate(utcnow(), 4, 0).rate == 0


def test_listing_page_costs_the_same_queries_however_many_signals(
    client: TestClient, people: People, pages: TestClient, db: Database, signal: Signal
) -> None:
    sign_in(pages, signal.expert.username)

    def acknowledge(need_id: int) -> None:
        response = client.post(
            f"/learning-needs/{need_id}/acknowledge",
            json={"note": "Seen."},
            headers=signal.expert.headers,
        )
        assert response.status_code == 200, response.text

    def statements() -> int:
        with counting_queries(db) as run:
            assert pages.get("/learning-needs").status_code == 200
        return len(run)

    acknowledge(signal.need_id)
    small = statements()
    for n in range(3):
        wrong_thread(client, signal.expert, signal.rep, "claims", f"Question number {n} here?")
    for need in client.get("/learning-needs", headers=signal.rep.headers).json()["items"][:2]:
        acknowledge(need["id"])
    assert statements() == small
