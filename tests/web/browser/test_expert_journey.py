"""An expert works through the review queue, by keyboard and by form, then handles the
learning need the wrong answers raised."""

import re
from typing import Any

from playwright.sync_api import expect

from tests.factories import answer, ask, flag
from tests.web.browser.conftest import Site, assert_accessible, sign_in

TITLE = "Can a lapsed home policy be reinstated?"


def test_expert_reviews_the_queue_and_handles_the_learning_need(
    page: Any, no_script_page: Any, site: Site, axe_source: str
) -> None:
    topic = site.topic()
    rep, colleague = site.person("rep"), site.person("rep")
    expert = site.person("expert", topics=(topic,))
    question = ask(site.api, rep, topic, title=TITLE, body="The customer missed a payment.")
    flagged = answer(site.api, rep, question["id"], "Always refuse reinstatement.")
    answer(site.api, rep, question["id"], "Reinstate within 30 days of the lapse.")
    answer(site.api, rep, question["id"], "Ask the customer to phone someone.")
    flag(site.api, colleague, flagged["id"], "We do reinstate within 30 days.")

    sign_in(page, expert)
    page.goto("/reviews")
    cards = page.get_by_role("article")
    expect(cards).to_have_count(3)
    first = cards.first
    expect(first).to_contain_text("Flagged as possibly wrong")
    expect(first).to_contain_text("“We do reinstate within 30 days.”")
    expect(first).to_contain_text("Always refuse reinstatement.")
    expect(page.get_by_role("heading", name="Keyboard shortcuts")).to_be_visible()
    assert_accessible(page, axe_source)

    # j / k move the highlighted answer.
    expect(first).to_have_attribute("aria-current", "true")
    page.keyboard.press("j")
    expect(cards.nth(1)).to_have_attribute("aria-current", "true")
    expect(cards.nth(1)).to_be_focused()
    page.keyboard.press("k")
    expect(first).to_have_attribute("aria-current", "true")
    page.keyboard.press("?")
    expect(page.get_by_role("complementary", name="Keyboard shortcuts")).to_be_focused()

    # c opens the correction form of the flagged answer, at its rationale.
    page.keyboard.press("c")
    rationale = first.get_by_label("Rationale: what is wrong with it")
    expect(rationale).to_be_focused()
    expect(first.get_by_label("Corrected answer")).to_have_value("Always refuse reinstatement.")
    assert_accessible(page, axe_source)
    print("queue screenshot:", site.screenshot(page, "queue"))
    rationale.fill("Policies lapsed under 30 days can be reinstated.")
    first.get_by_label("Corrected answer").fill("Reinstate if it lapsed under 30 days ago.")
    first.get_by_role("button", name="Save correction").click()
    expect(page.get_by_role("status")).to_contain_text(f"Corrected the answer to “{TITLE}”")

    # Back at the next answer: e endorses it.
    current = page.locator("[aria-current='true']")
    expect(current).to_contain_text("Reinstate within 30 days of the lapse.")
    page.keyboard.press("e")
    expect(page.get_by_role("status")).to_contain_text(f"Endorsed the answer to “{TITLE}”.")

    # r opens the reject form of the last one.
    expect(current).to_contain_text("Ask the customer to phone someone.")
    page.keyboard.press("r")
    reason = current.get_by_label("Rationale: why it is rejected")
    expect(reason).to_be_focused()
    page.keyboard.type("Too vague to act on.")  # its e, c and r are text, not shortcuts
    expect(reason).to_have_value("Too vague to act on.")
    current.get_by_role("button", name="Reject answer").click()
    expect(page.get_by_role("status")).to_contain_text(f"Rejected the answer to “{TITLE}”.")
    expect(page.get_by_text("Nothing waits for you")).to_be_visible()

    # The thread shows each verdict.
    page.goto(f"/questions/{question['id']}")
    expect(page.get_by_text("Reinstate if it lapsed under 30 days ago.")).to_be_visible()
    expect(page.get_by_text("this is the answer to rely on")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Endorsed\s+by"))).to_be_visible()
    expect(page.get_by_text("Too vague to act on.")).to_be_visible()

    # Two wrong answers on one thread: a learning need. Acknowledged without JavaScript...
    sign_in(no_script_page, expert)
    no_script_page.goto("/learning-needs")
    need = no_script_page.get_by_role("article", name=TITLE)
    expect(need).to_contain_text("2 wrong of 3 reviewed answers on this thread")
    need.get_by_label("Acknowledge: what you will look into").fill("Checking the lapse guide.")
    need.get_by_role("button", name="Acknowledge").click()
    expect(no_script_page.get_by_role("status")).to_contain_text("Acknowledged the learning need")

    # ... then addressed, with a link to the training.
    page.goto("/learning-needs")
    need = page.get_by_role("article", name=TITLE)
    expect(need).to_contain_text("Checking the lapse guide.")
    expect(need).to_contain_text("Acknowledged")
    chart = page.get_by_role("img", name=re.compile(f"Wrong-answer rate of {topic.title()}"))
    expect(chart).to_be_visible()
    assert_accessible(page, axe_source)
    print("learning needs screenshot:", site.screenshot(page, "learning-needs"))
    need.get_by_label("What was done").fill(
        "Added [lapse training](https://lms.example/lapses) to onboarding."
    )
    need.get_by_role("button", name="Mark addressed").click()
    expect(page.get_by_role("status")).to_contain_text("as addressed.")
    need = page.get_by_role("article", name=TITLE)
    expect(need.get_by_role("link", name="lapse training")).to_be_visible()
    expect(need.get_by_label("What was done")).to_have_count(0)

    page.set_viewport_size({"width": 360, "height": 800})
    print("narrow screenshot:", site.screenshot(page, "learning-needs-narrow"))


def test_two_experts_complete_a_two_person_endorsement(
    page: Any, no_script_page: Any, site: Site, axe_source: str
) -> None:
    topic = site.topic(required_endorsements=2)
    rep = site.person("rep")
    first, second = site.person("expert", topics=(topic,)), site.person("expert", topics=(topic,))
    question = ask(site.api, rep, topic, title="Is flood cover included by default?")
    posted = answer(site.api, rep, question["id"], "Only in the premium tier.")

    # The first endorsement, without JavaScript: the answer now awaits a second.
    sign_in(no_script_page, first)
    no_script_page.goto("/reviews")
    card = no_script_page.get_by_role("article", name="Is flood cover included by default?")
    card.get_by_role("button", name="Endorse").click()
    expect(no_script_page.get_by_role("status")).to_contain_text(
        "it now awaits another expert's endorsement"
    )

    sign_in(page, second)
    page.goto("/reviews")
    card = page.get_by_role("article", name="Is flood cover included by default?")
    expect(card).to_contain_text("Awaiting a second endorsement")
    expect(card).to_contain_text("1 of 2 endorsements so far")
    page.set_viewport_size({"width": 360, "height": 800})
    assert_accessible(page, axe_source)
    print("narrow queue screenshot:", site.screenshot(page, "queue-narrow"))
    card.get_by_role("button", name="Endorse").click()
    expect(page.get_by_role("status")).to_contain_text("Endorsed the answer to")

    shown = site.api.get(f"/questions/{question['id']}", headers=rep.headers).json()
    assert shown["answers"][0]["state"] == "endorsed"  # both endorsements counted
    page.goto(f"/questions/{question['id']}#answer-{posted['id']}")
    expect(page.get_by_text(re.compile(r"Endorsed\s+by"))).to_be_visible()
