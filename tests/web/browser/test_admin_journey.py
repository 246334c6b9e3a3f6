"""An admin in a real browser: a new expert and a new topic, a signpost, and a colleague
deactivated while they have a page open."""

from typing import Any

from playwright.sync_api import expect

from tests.web.browser.conftest import Site, assert_accessible, sign_in

PASSWORD = "a-long-initial-password"


def open_admin(page: Any) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()


def test_admin_creates_an_expert_and_a_topic_and_deactivates_a_colleague(
    page: Any, browser: Any, site: Site, axe_source: str
) -> None:
    claims = site.topic()
    colleague = site.person("rep")
    # The colleague is working in a browser of their own.
    elsewhere = browser.new_context(base_url=site.url)
    theirs = elsewhere.new_page()
    sign_in(theirs, colleague)
    expect(theirs.get_by_role("heading", name="Questions", level=1)).to_be_visible()

    sign_in(page, site.person("admin"))
    open_admin(page)
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    assert_accessible(page, axe_source)

    # A new expert of an existing topic.
    page.get_by_role("link", name="Create a user").click()
    assert_accessible(page, axe_source)
    username = site.unique("newexpert")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_label("Display name").fill("Nadia Expert")
    page.get_by_role("checkbox", name="Rep: asks").uncheck()
    page.get_by_role("checkbox", name="Expert: reviews").check()
    page.get_by_role("checkbox", name=claims.title()).check()
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"Created Nadia Expert ({username}).")).to_be_visible()
    expect(page.get_by_role("heading", name="Nadia Expert", level=1)).to_be_visible()
    assert_accessible(page, axe_source)

    # A new topic, with a signpost.
    open_admin(page)
    page.get_by_role("link", name="Create a topic").click()
    assert_accessible(page, axe_source)
    slug = site.unique("motor-")
    page.get_by_label("Slug").fill(slug)
    page.get_by_label("Name").fill("Motor claims")
    page.get_by_label("Endorsements required").fill("2")
    page.get_by_role("button", name="Create topic").click()
    expect(page.get_by_text("Created the topic Motor claims.")).to_be_visible()
    expect(page.get_by_text("never stale")).to_be_visible()
    page.get_by_label("Title").fill("Motor claims handbook")
    page.get_by_label("Address (URL)").fill("https://intranet.example/motor")
    page.get_by_role("button", name="Add signpost").click()
    expect(page.get_by_role("link", name="Motor claims handbook")).to_be_visible()
    assert_accessible(page, axe_source)

    # The colleague is deactivated; their next click lands on the sign-in page.
    open_admin(page)
    page.get_by_role("link", name=colleague.username.title()).click()
    assert_accessible(page, axe_source)
    page.get_by_role("button", name=f"Deactivate {colleague.username.title()}").click()
    expect(page.get_by_text("signed out everywhere")).to_be_visible()
    expect(
        page.get_by_role("button", name=f"Reactivate {colleague.username.title()}")
    ).to_be_visible()
    theirs.get_by_role("link", name="Questions").click()
    theirs.wait_for_url("**/login?next=**")
    expect(theirs.get_by_text("Your session has ended.")).to_be_visible()

    # The new expert signs in on that browser and finds their review queue.
    theirs.get_by_label("Username").fill(username)
    theirs.get_by_label("Password").fill(PASSWORD)
    theirs.get_by_role("button", name="Sign in").click()
    expect(theirs.get_by_role("link", name="Review queue")).to_be_visible()
    theirs.goto(f"/admin/topics/{claims}/signposts")
    expect(theirs.get_by_role("heading", name="Add a signpost")).to_be_visible()
    assert_accessible(theirs, axe_source)
    elsewhere.close()

    open_admin(page)
    expect(page.get_by_role("link", name="Nadia Expert")).to_be_visible()
    print("screenshot:", site.screenshot(page, "admin"))


def test_the_create_user_form_works_without_javascript(
    no_script_page: Any, site: Site, axe_source: str
) -> None:
    page = no_script_page
    sign_in(page, site.person("admin"))
    page.goto("/admin/users/new")
    username = site.unique("scriptless")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Initial password").fill("short")
    page.get_by_label("Display name").fill("Sam Scriptless")
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("Use at least 12 characters")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value(username)
    expect(page.get_by_label("Initial password")).to_have_value("")
    page.get_by_label("Initial password").fill(PASSWORD)
    page.get_by_role("button", name="Create user").click()
    expect(page.get_by_text(f"Created Sam Scriptless ({username}).")).to_be_visible()
