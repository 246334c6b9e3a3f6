"""Signing in and out in a real browser."""

from typing import Any

from tests.web.browser.conftest import Site, assert_accessible, sign_in


def test_rep_signs_in_sees_the_questions_and_signs_out(
    page: Any, site: Site, axe_source: str
) -> None:
    rep = site.person("rep")
    page.goto("/")
    assert "/login" in page.url
    assert_accessible(page, axe_source)
    sign_in(page, rep)
    assert page.get_by_role("heading", name="Questions").is_visible()
    assert page.get_by_role("link", name="Ask", exact=True).is_visible()
    assert page.get_by_role("link", name="Audit").count() == 0
    assert_accessible(page, axe_source)
    site.screenshot(page, "home")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    assert page.get_by_text("You have signed out.").is_visible()
    page.goto("/")
    assert "/login" in page.url
