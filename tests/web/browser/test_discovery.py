"""Finding what is known, in a real browser: searching from the header and narrowing with
facets and "Expert-validated only" (also without JavaScript); the digest of newly validated
answers, the leaderboard, and a profile with an expert's rationale on a rejected answer."""

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import update

from app.db import session_scope
from app.topics.models import Topic
from app.users.models import User
from tests.factories import Person, answer, ask, review
from tests.web.browser.conftest import Site, assert_accessible, sign_in

# Meilisearch indexes a new thread within a second or two; allow for a slow machine.
INDEXED = 20_000


def named_topic(site: Site, name: str) -> str:
    """A new topic called `name` (as people would name it); returns its slug."""
    slug = site.topic()
    with session_scope(site.db) as session:
        session.execute(update(Topic).where(Topic.slug == slug).values(name=name))
    return slug


def named_person(
    site: Site, display_name: str, *roles: str, topics: tuple[str, ...] = ()
) -> Person:
    person = site.person(*roles, topics=topics)
    with session_scope(site.db) as session:
        session.execute(update(User).where(User.id == person.id).values(display_name=display_name))
    return person


def wait_until_found(page: Any, search: str, question_ids: list[int]) -> None:
    """Wait until the search page at `search` lists every question: the server's worker has
    indexed them as they now read. Fetched from the signed-in page; the predicate itself is
    synchronous (Playwright does not await a promise it returns), so each poll reads the
    answer of the fetch the previous one started."""
    page.wait_for_function(
        """([url, hrefs]) => {
            const asked = (window.vouchSearched ??= {});
            if (asked[url] === true) return true;
            if (asked[url] !== null) {
                asked[url] = null;
                fetch(url).then((r) => r.text()).then(
                    (html) => { asked[url] = hrefs.every((h) => html.includes(`href="${h}"`)); },
                    () => { asked[url] = false; },
                );
            }
            return false;
        }""",
        arg=[search, [f"/questions/{q}" for q in question_ids]],
        polling=250,
        timeout=INDEXED,
    )


def test_rep_searches_from_the_header_narrows_and_opens_a_validated_answer(
    page: Any, no_script_page: Any, site: Site, axe_source: str
) -> None:
    motor = named_topic(site, "Motor claims")
    home = named_topic(site, "Buildings cover")
    expert = named_person(site, "Amir Khan", "expert", topics=(motor,))
    colleague = named_person(site, "Jo Evans", "rep")
    rep = named_person(site, "Sam Reid", "rep")
    lapsed = ask(
        site.api,
        colleague,
        motor,
        title="Is windscreen damage covered after the policy lapsed?",
        body="The customer's policy lapsed on the 3rd; the chip happened on the 1st.",
        tags=["windscreen", "lapse"],
    )
    covered = answer(
        site.api,
        colleague,
        lapsed["id"],
        "Yes, if the windscreen was damaged before the lapse date: check the date of the "
        "incident against the policy end date.",
    )
    review(site.api, expert, covered["id"], "endorse")
    repairer = ask(
        site.api, rep, motor, title="Can a customer choose their own windscreen repairer?"
    )
    own_choice = answer(site.api, colleague, repairer["id"], "Yes, any windscreen repairer.")
    review(
        site.api,
        expert,
        own_choice["id"],
        "correct",
        rationale="The policy names an approved network.",
        correction="Only a windscreen repairer of the approved network, or the excess rises.",
    )
    courtesy = ask(
        site.api, rep, motor, title="Windscreen claim and a courtesy car", tags=["windscreen"]
    )
    answer(site.api, colleague, courtesy["id"], "I think a courtesy car is included.")
    conservatory = ask(site.api, colleague, home, title="Windscreen-style glass in a conservatory?")

    sign_in(page, rep)
    wait_until_found(
        page,
        f"/search?q=windscreen&topic={motor}&validated=true",
        [lapsed["id"], repairer["id"]],
    )
    wait_until_found(page, f"/search?q=windscreen&topic={home}", [conservatory["id"]])

    # From the header's box, on any page.
    page.get_by_label("Search questions", exact=True).fill("windscreen")
    page.get_by_label("Search questions", exact=True).press("Enter")
    expect(page.get_by_role("heading", level=1, name="Search")).to_be_visible()
    expect(page.get_by_label("Search for")).to_have_value("windscreen")
    expect(page.get_by_role("link", name=conservatory["title"])).to_be_visible()

    # Narrow to a topic with its facet, then to expert-validated answers.
    topics = page.get_by_role("region", name="Topic")
    topics.get_by_role("link", name=re.compile(r"^Motor claims \d+")).click()
    expect(page.get_by_role("link", name=conservatory["title"])).to_have_count(0)
    expect(page.get_by_role("link", name=courtesy["title"])).to_be_visible()
    expect(
        page.get_by_role("region", name="Topic").get_by_role("link", name=re.compile("selected"))
    ).to_be_visible()
    page.get_by_label("Expert-validated only").check()
    expect(page.get_by_role("link", name=courtesy["title"])).to_have_count(0)
    hit = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=lapsed["title"]))
    expect(hit.get_by_text("Expert-endorsed")).to_be_visible()
    expect(hit.get_by_text("check the date of the incident")).to_be_visible()
    corrected = page.get_by_role("listitem").filter(
        has=page.get_by_role("link", name=repairer["title"])
    )
    expect(corrected.get_by_text("Corrected by an expert")).to_be_visible()
    expect(corrected.get_by_text("approved network")).to_be_visible()
    assert "validated=true" in page.url
    assert_accessible(page, axe_source)
    site.screenshot(page, "search")
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    site.screenshot(page, "search-360")
    page.set_viewport_size({"width": 1280, "height": 900})

    page.get_by_role("link", name=lapsed["title"]).click()
    page.wait_for_url(f"**/questions/{lapsed['id']}")
    expect(page.get_by_role("heading", level=1, name=lapsed["title"])).to_be_visible()

    # Without JavaScript the same form searches when its button is pressed.
    sign_in(no_script_page, rep)
    no_script_page.goto(f"/search?topic={motor}")
    form = no_script_page.get_by_role("search", name="Search the questions")
    form.get_by_label("Search for").fill("windscreen")
    form.get_by_label("Expert-validated only").check()
    form.get_by_role("button", name="Search").click()
    expect(no_script_page.get_by_role("link", name=lapsed["title"])).to_be_visible()
    expect(no_script_page.get_by_role("link", name=courtesy["title"])).to_have_count(0)
    expect(no_script_page.get_by_role("link", name=conservatory["title"])).to_have_count(0)


def test_digest_leaderboard_and_a_profile_with_an_experts_rationale(
    page: Any, site: Site, axe_source: str
) -> None:
    topic = named_topic(site, "Home insurance")
    expert = named_person(site, "Helen Price", "expert", topics=(topic,))
    priya = named_person(site, "Priya Shah", "rep")
    tom = named_person(site, "Tom Becker", "rep")
    for title, body in (
        ("Is a burst pipe covered when the house is empty?", "Yes, for up to 60 days empty."),
        ("Does contents cover include a garden shed?", "Yes, up to the shed limit."),
    ):
        q = ask(site.api, tom, topic, title=title)
        review(site.api, expert, answer(site.api, priya, q["id"], body)["id"], "endorse")
    keys = ask(site.api, priya, topic, title="Are lost keys covered under home insurance?")
    tom_corrected = answer(site.api, tom, keys["id"], "Yes, always.")
    review(
        site.api,
        expert,
        tom_corrected["id"],
        "correct",
        rationale="Only with the optional key cover.",
        correction="Only when the customer added the optional **key cover**.",
    )
    leak = ask(site.api, priya, topic, title="Is a slow leak under the bath covered?")
    tom_rejected = answer(site.api, tom, leak["id"], "Yes, escape of water is covered.")
    rationale = "Escape of water is covered, but gradual leaks are excluded; ask how long it ran."
    review(site.api, expert, tom_rejected["id"], "reject", rationale=rationale)

    sign_in(page, tom)
    page.get_by_role("link", name="Digest", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Digest")).to_be_visible()
    expect(
        page.get_by_role("link", name="Is a burst pipe covered when the house is empty?")
    ).to_be_visible()
    fix = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=keys["title"]))
    expect(fix.get_by_text("Corrected by an expert")).to_be_visible()
    expect(fix.get_by_text("optional key cover")).to_be_visible()
    expect(page.get_by_role("link", name=leak["title"])).to_have_count(0)  # rejected
    contributors = page.get_by_role("complementary", name="Top contributors")
    expect(contributors.get_by_role("link", name="Priya Shah").first).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "digest")

    page.get_by_role("link", name="Leaderboard", exact=True).click()
    page.get_by_label("Topic", exact=True).select_option(label="Home insurance")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="Reputation in Home insurance")).to_be_visible()
    rows = page.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("Priya Shah")
    expect(rows.nth(1)).to_contain_text("20")
    expect(rows.nth(2)).to_contain_text("Helen Price")
    expect(rows.nth(3)).to_contain_text("Tom Becker")
    assert_accessible(page, axe_source)
    site.screenshot(page, "leaderboard")

    page.get_by_role("table").get_by_role("link", name="Tom Becker").click()
    expect(page.get_by_role("heading", level=1, name="Tom Becker")).to_be_visible()
    rejected = page.get_by_role("listitem").filter(has=page.get_by_role("link", name=leak["title"]))
    expect(rejected.get_by_text("Rejected by an expert")).to_be_visible()
    expect(rejected.get_by_text(rationale)).to_be_visible()
    expect(rejected.get_by_role("link", name="Helen Price")).to_be_visible()
    assert_accessible(page, axe_source)
    site.screenshot(page, "profile")
    page.set_viewport_size({"width": 360, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    site.screenshot(page, "profile-360")
    print("screenshots:", site.shots)
