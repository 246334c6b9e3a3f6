"""Personal access tokens in a browser: a person makes one from their profile, copies it
while it is shown, and revokes it."""

from typing import Any

import httpx
from playwright.sync_api import expect

from tests.web.browser.conftest import Site, assert_accessible, sign_in


def test_a_person_makes_a_token_uses_it_and_revokes_it(
    site: Site, page: Any, axe_source: str
) -> None:
    rep = site.person("rep")
    sign_in(page, rep)
    page.goto("/profile")
    page.get_by_role("link", name="personal access tokens").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Personal access tokens")

    page.get_by_label("Name").fill("Weekly claims report")
    page.get_by_label("Expires after (days)").fill("14")
    page.get_by_role("button", name="Create token").click()

    expect(page.get_by_role("status")).to_contain_text("it will not be shown again")
    secret = page.get_by_label("Your new token").input_value()
    me = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200 and me.json()["username"] == rep.username
    row = page.get_by_role("row", name="Weekly claims report")
    expect(row).to_contain_text("Live")
    assert_accessible(page, axe_source)
    site.screenshot(page, "profile-tokens-created")

    row.get_by_role("button", name="Revoke Weekly claims report").click()

    expect(page.get_by_role("status")).to_contain_text("Revoked Weekly claims report")
    expect(page.get_by_role("row", name="Weekly claims report")).to_contain_text("Revoked")
    expect(page.get_by_label("Your new token")).to_have_count(0)
    refused = httpx.get(f"{site.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    assert_accessible(page, axe_source)
    site.screenshot(page, "profile-tokens-revoked")
