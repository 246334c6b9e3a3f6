"""Single sign-on in a real browser: Chromium goes from Vouch's sign-in page through the
OpenID provider's own login and consent pages and back, signed in with the roles of the
person's groups; signing out ends the session at the provider too."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.config import Settings
from app.db import Database, session_scope
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.models import User
from tests.factories import SETUP
from tests.support.oidc_provider import OidcProvider
from tests.support.served import VouchServer, vouch_env
from tests.web.browser.conftest import Site, assert_accessible

pytestmark = pytest.mark.oidc

CLIENT_ID = "vouch-browser"
CLIENT_SECRET = "the browser test's client secret"


@pytest.fixture
def sso_site(
    settings: Settings, db: Database, tmp_path: Path
) -> Iterator[tuple[str, OidcProvider]]:
    """`vouch serve` with single sign-on only (passwords off but for the break-glass admin),
    beside the provider it trusts."""
    with session_scope(db) as session:
        create_topic(session, SETUP, TopicCreate(slug="claims", name="Claims"))
    server = VouchServer(vouch_env(settings))
    base = f"http://127.0.0.1:{server.port}"
    with OidcProvider(
        tmp_path / "oidc",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{base}/auth/oidc/callback"],
        post_logout_redirect_uris=[f"{base}/login"],
    ) as provider:
        provider.set_account(
            "grace",
            name="Grace Hopper",
            email="grace@example.org",
            groups=["everyone", "claims-experts"],
        )
        server.env.update(
            VOUCH_PUBLIC_URL=base,
            VOUCH_OIDC_ISSUER=provider.issuer,
            VOUCH_OIDC_CLIENT_ID=CLIENT_ID,
            VOUCH_OIDC_CLIENT_SECRET=CLIENT_SECRET,
            VOUCH_OIDC_PROVIDER_NAME="Example Corp",
            VOUCH_OIDC_ROLE_MAP=json.dumps(
                {"claims-experts": {"roles": ["expert"], "topics": ["claims"]}}
            ),
            VOUCH_LOCAL_LOGIN="false",
            VOUCH_BREAK_GLASS_ADMIN="root",
        )
        server.start_and_wait()
        try:
            yield base, provider
        finally:
            server.stop()


def test_an_expert_signs_in_through_the_provider_and_out_again(
    browser: Any, sso_site: tuple[str, OidcProvider], db: Database, axe_source: str, site: Site
) -> None:
    base, provider = sso_site
    context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto("/reviews")
        assert "/login" in page.url
        assert page.get_by_text("Emergency administrator sign-in").is_visible()
        assert not page.get_by_label("Password").is_visible()  # folded away
        assert_accessible(page, axe_source)
        site.screenshot(page, "sso-sign-in")

        page.get_by_role("link", name="Sign in with Example Corp").click()
        page.wait_for_url(f"{provider.issuer}/**")
        page.locator('input[name="login"]').fill("grace")
        page.locator('input[name="password"]').fill("whatever the provider asks")
        site.screenshot(page, "sso-provider-login")
        page.locator('button[type="submit"]').click()
        page.get_by_role("button", name="Continue").click()  # the provider's consent
        page.wait_for_url(f"{base}/reviews")

        assert page.get_by_text("Grace Hopper").first.is_visible()
        assert page.get_by_role("heading", name="Review queue").is_visible()
        site.screenshot(page, "sso-signed-in")

        with db.session() as session:
            grace = session.execute(
                select(User).where(User.display_name == "Grace Hopper")
            ).scalar_one()
            assert grace.roles == ["expert"]  # "everyone" maps to nothing
            trail = session.execute(
                select(AuditEvent.action, AuditEvent.payload)
                .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(grace.id))
                .order_by(AuditEvent.seq)
            ).all()
        assert [action for action, _ in trail] == ["user.create", "user.roles_change", "auth.login"]
        assert trail[1][1]["after"] == {"roles": ["expert"], "expert_topics": ["claims"]}
        assert trail[2][1]["method"] == "oidc"

        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{provider.issuer}/**")  # the provider asks to confirm
        page.get_by_role("button", name="Yes, sign me out").click()
        page.wait_for_url(f"{base}/login**")
        page.goto("/reviews")
        assert "/login" in page.url

        # A callback this browser did not start: the refusal page, and a way back.
        page.goto("/auth/oidc/callback?code=forged&state=forged")
        assert page.get_by_role("heading", name="Sign-in refused").is_visible()
        assert page.get_by_role("link", name="Start signing in again").is_visible()
        assert_accessible(page, axe_source)
        site.screenshot(page, "sso-refused")
    finally:
        context.close()
