"""A rep's day in a real browser: asking (with similar questions suggested as the title is
typed), answering, voting, flagging, commenting, editing and reading the history; the
thread with an answer in every validation state; asking and answering without JavaScript."""

import re
from datetime import timedelta
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import update

from app.answers.models import Answer
from app.db import session_scope, utcnow
from app.reviews.models import Review
from tests.factories import Person, answer, ask, flag, review
from tests.web.browser.conftest import Site, assert_accessible, sign_in

# Meilisearch indexes a new thread within a second or two; allow for a slow machine.
INDEXED = 20_000
# The answer field (not the answer cards, labelled "Answer by …").
ANSWER = "Answer (required)"


def wait_until_suggested(page: Any, title: str, question_id: int) -> None:
    """Wait until the hints for `title` list the question, i.e. the server's worker has
    indexed it: asked from the signed-in page, as the title field asks. (Evaluated, not
    `wait_for_function`, whose polling the page's Content-Security-Policy forbids.)"""
    found = page.evaluate(
        """async ([title, href, ms]) => {
            const end = Date.now() + ms;
            while (Date.now() < end) {
                const r = await fetch("/ask/similar?title=" + encodeURIComponent(title),
                                      {headers: {"HX-Request": "true"}});
                if ((await r.text()).includes('href="' + href + '"')) return true;
                await new Promise((resolve) => setTimeout(resolve, 100));
            }
            return false;
        }""",
        [title, f"/questions/{question_id}", INDEXED],
    )
    assert found, f"question {question_id} was not suggested for {title!r}"


def is_fragment(path: str) -> Any:
    """Matches the htmx POST to `path` (an enhancement, not a page load)."""
    return lambda r: (
        r.request.method == "POST"
        and r.request.url.endswith(path)
        and r.request.headers.get("hx-request") == "true"
    )


def test_rep_asks_answers_votes_flags_comments_and_edits(
    page: Any, site: Site, axe_source: str
) -> None:
    topic = site.topic()
    colleague = site.person("rep")
    existing = ask(site.api, colleague, topic, title="How do I refund a cancelled travel policy?")
    other = ask(site.api, colleague, topic, title="Is hail damage to a parked car covered?")
    theirs = answer(site.api, colleague, other["id"], "Yes, under comprehensive cover.")
    rep = site.person("rep")
    sign_in(page, rep)
    wait_until_suggested(page, "refund cancelled travel", existing["id"])

    # Asking: the existing question is suggested while the title is typed.
    page.get_by_role("link", name="Ask", exact=True).click()
    expect(page.get_by_role("heading", name="Ask a question")).to_be_visible()
    page.get_by_label("Title").press_sequentially("Refund for a cancelled travel policy")
    expect(page.get_by_role("link", name=existing["title"])).to_be_visible(timeout=INDEXED)
    assert_accessible(page, axe_source)
    page.get_by_label("Title").fill("Partial refund when a travel policy is cancelled early?")
    page.get_by_label("Details").fill("The customer cancelled after **ten days**.")
    page.get_by_label("Topic").select_option(topic)
    page.get_by_label("Tags").fill("refunds, travel")
    with page.expect_response(is_fragment("/ask")):
        page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("ten days", exact=True)).to_be_visible()
    expect(page.get_by_label("Title")).to_have_value(
        "Partial refund when a travel policy is cancelled early?"
    )
    site.screenshot(page, "ask")
    page.get_by_role("button", name="Post your question").click()
    expect(
        page.get_by_role(
            "heading", level=1, name="Partial refund when a travel policy is cancelled early?"
        )
    ).to_be_visible()
    expect(page.get_by_text("Your question is posted.")).to_be_visible()

    # Answering another thread.
    page.goto(f"/questions/{other['id']}")
    page.get_by_label(ANSWER, exact=True).fill("Only with *comprehensive* cover.")
    page.get_by_role("button", name="Post your answer").click()
    expect(page.get_by_text("Your answer is posted.")).to_be_visible()
    mine = page.get_by_role("article", name=f"Answer by {rep.username.title()}")
    expect(mine.get_by_text("Only with comprehensive cover.")).to_be_visible()
    expect(mine.get_by_role("button", name="Vote up")).to_have_count(0)

    # Voting, flagging and commenting on the colleague's answer.
    card = page.get_by_role("article", name=f"Answer by {colleague.username.title()}")
    with page.expect_response(is_fragment(f"/answers/{theirs['id']}/vote")):
        card.get_by_role("button", name="Vote up").click()
    expect(card.get_by_role("button", name="Vote up")).to_have_attribute("aria-pressed", "true")
    expect(card.get_by_text("1 score")).to_be_visible()
    card.get_by_text("⚑ Flag").click()
    card.get_by_label("Why might this answer be wrong?").fill("Hail is a named peril.")
    card.get_by_role("button", name="Flag for an expert").click()
    expect(page.get_by_text("the answer is flagged")).to_be_visible()
    card = page.get_by_role("article", name=f"Answer by {colleague.username.title()}")
    expect(card.get_by_text("1 open flag")).to_be_visible()
    card.get_by_text("Add a comment").click()
    card.get_by_label("Comment", exact=True).fill("Which policy wording is this from?")
    card.get_by_role("button", name="Post comment").click()
    expect(page.get_by_text("Which policy wording is this from?")).to_be_visible()
    assert_accessible(page, axe_source)

    # Editing the own answer, then reading its history.
    mine = page.get_by_role("article", name=f"Answer by {rep.username.title()}")
    mine.get_by_role("link", name="Edit your answer").click()
    page.get_by_label(ANSWER, exact=True).fill("Only with *comprehensive* cover, less the excess.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Your changes are saved.")).to_be_visible()
    page.get_by_role("link", name=f"History of the answer by {rep.username.title()}").click()
    expect(page.get_by_role("heading", name="Revision 2")).to_be_visible()
    expect(page.get_by_role("insertion").filter(has_text="less the excess")).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "revisions")


def test_ask_and_answer_without_javascript(no_script_page: Any, site: Site) -> None:
    page = no_script_page
    topic = site.topic()
    rep = site.person("rep")
    sign_in(page, rep)

    page.goto("/ask")
    page.get_by_label("Title").fill("Can a customer pay their premium monthly?")
    page.get_by_label("Details").fill("They ask about *instalments*.")
    page.get_by_label("Topic").select_option(topic)
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_label("Details")).to_have_value("They ask about *instalments*.")
    page.get_by_role("button", name="Post your question").click()
    expect(page.get_by_text("Your question is posted.")).to_be_visible()

    page.get_by_label(ANSWER, exact=True).fill("Yes, with a **direct debit**.")
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_role("heading", name="Preview")).to_be_visible()
    expect(page.get_by_label(ANSWER, exact=True)).to_have_value("Yes, with a **direct debit**.")
    page.get_by_role("button", name="Post your answer").click()
    expect(page.get_by_text("Your answer is posted.")).to_be_visible()
    expect(page.get_by_text("direct debit")).to_be_visible()


def _age_endorsement(site: Site, answer_id: int, days: int, interval: int) -> None:
    """Make the answer's endorsement `days` old, as if given then."""
    then = utcnow() - timedelta(days=days)
    with session_scope(site.db) as session:
        session.execute(update(Review).where(Review.answer_id == answer_id).values(created_at=then))
        session.execute(
            update(Answer)
            .where(Answer.id == answer_id)
            .values(last_endorsed_at=then, stale_at=then + timedelta(days=interval))
        )


def _author(site: Site, stem: str) -> Person:
    return site.people.make("rep", username=site.unique(stem))


def test_thread_shows_every_answer_state(page: Any, site: Site, axe_source: str) -> None:
    topic = site.topic(required_endorsements=2, review_interval_days=90)
    first = site.person("expert", topics=(topic,))
    second = site.person("expert", topics=(topic,))
    asker = _author(site, "asker")
    question = ask(
        site.api,
        asker,
        topic,
        title="Is accidental damage to a tenant's carpet covered?",
        body="A landlord's tenant spilled paint. The landlord has **buildings** cover only.",
    )["id"]
    posts = {
        "rejected": "Yes, buildings cover always includes carpets.",
        "unreviewed": "Ask for photos of the damage first.",
        "awaiting": "Only if the landlord added contents cover for their furnishings.",
        "stale": "Carpets count as contents, not buildings.",
        "corrected": "No, never.",
        "endorsed": "Carpets are contents: covered only under landlord contents cover.",
    }
    ids = {
        state: answer(site.api, _author(site, state), question, text)["id"]
        for state, text in posts.items()
    }
    for expert in (first, second):
        review(site.api, expert, ids["endorsed"], "endorse")
        review(site.api, expert, ids["stale"], "endorse")
    review(site.api, first, ids["awaiting"], "endorse")
    review(
        site.api,
        second,
        ids["corrected"],
        "correct",
        rationale="Fitted carpets can be contents cover, depending on the policy wording.",
        correction="Not under buildings cover. Fitted carpets fall under **landlord contents** "
        "cover, if the landlord has it.",
    )
    review(
        site.api,
        first,
        ids["rejected"],
        "reject",
        rationale="Buildings cover excludes carpets.",
    )
    flag(site.api, asker, ids["unreviewed"], "Photos do not decide cover.")
    _age_endorsement(site, ids["stale"], days=120, interval=90)

    reader = site.person("rep")
    sign_in(page, reader)
    page.goto(f"/questions/{question}")

    articles = page.get_by_role("article")
    expect(page.get_by_text(re.compile(r"Endorsed by .+ and .+ on \d+ \w+ \d{4}"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Correction by .+, \d+ \w+ \d{4}"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Original answer by"))).to_be_visible()
    expect(page.get_by_text("Awaiting endorsement (1 of 2)")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^Endorsement due for review: last endorsed"))
    ).to_be_visible()
    expect(page.get_by_text("Not yet reviewed by an expert")).to_be_visible()
    expect(page.get_by_text("1 open flag")).to_be_visible()
    expect(
        page.get_by_text(re.compile(r"^Rejected by .+: Buildings cover excludes carpets"))
    ).to_be_visible()
    expect(page.get_by_text(posts["rejected"])).to_be_hidden()
    assert articles.count() == 7  # the question and six answers
    assert_accessible(page, axe_source)
    print("thread screenshot:", site.screenshot(page, "thread"))
    page.set_viewport_size({"width": 360, "height": 800})
    print("narrow screenshot:", site.screenshot(page, "thread-360"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
