"""Single sign-on against a real OpenID provider (tests/support/oidc_provider.py): people
are created and kept up to date from its ID tokens, their roles follow their groups, and
every bad token, replay or provider fault ends on an error page with an audited failure
and nobody created or changed."""

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.audit.models import AuditEvent
from app.auth.models import ApiToken
from app.config import GroupGrant, Settings
from app.db import Database, session_scope
from app.main import create_app
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.models import User
from tests.factories import PASSWORD, SETUP
from tests.support.oidc_provider import OidcProvider, new_signing_key
from tests.web.helpers import csrf_of, submit

pytestmark = pytest.mark.oidc

SITE = "http://testserver"
CLIENT_ID = "vouch"
CLIENT_SECRET = "the client secret of the sign-in tests"
ROLE_MAP = {
    "claims-experts": GroupGrant(roles=["expert"], topics=["claims"]),
    "auditors": GroupGrant(roles=["compliance"]),
    "staff": GroupGrant(roles=["rep"]),
}


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[OidcProvider]:
    with OidcProvider(
        tmp_path / "oidc",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[f"{SITE}/auth/oidc/callback"],
        post_logout_redirect_uris=[f"{SITE}/login"],
    ) as started:
        started.set_account(
            "ada",
            name="Ada Lovelace",
            email="ada@example.org",
            groups=["staff", "claims-experts"],
        )
        yield started


def sso_settings(settings: Settings, provider: OidcProvider, **extra: Any) -> Settings:
    return settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_client_id": CLIENT_ID,
            "oidc_client_secret": SecretStr(CLIENT_SECRET),
            "oidc_role_map": ROLE_MAP,
            "oidc_provider_name": "Example Corp",
            "oidc_timeout_seconds": 2.0,
            "public_url": SITE,
            **extra,
        }
    )


@pytest.fixture
def site(settings: Settings, db: Database, provider: OidcProvider) -> Iterator[TestClient]:
    with session_scope(db) as session:
        create_topic(session, SETUP, TopicCreate(slug="claims", name="Claims"))
    app = create_app(sso_settings(settings, provider), db)
    with TestClient(app, base_url=SITE, follow_redirects=False) as client:
        yield client


def provider_page(site: TestClient, provider: OidcProvider, login: str) -> str:
    """Start at Vouch, sign in on the provider's own pages (a fresh browser session
    there); the URL the provider sends the browser back to."""
    started = site.get("/auth/oidc/login", params={"next": "/profile"})
    assert started.status_code == 303, started.text
    with httpx.Client(timeout=10) as browser:
        return provider.sign_in(browser, started.headers["location"], login)


def come_back(site: TestClient, callback: str) -> httpx.Response:
    parts = urlsplit(callback)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{SITE}/auth/oidc/callback"
    return site.get(f"{parts.path}?{parts.query}")


def sign_in(site: TestClient, provider: OidcProvider, login: str = "ada") -> httpx.Response:
    return come_back(site, provider_page(site, provider, login))


def user_named(db: Database, display_name: str) -> User | None:
    with db.session() as session:
        return session.execute(
            select(User).where(User.display_name == display_name)
        ).scalar_one_or_none()


def roles_of(db: Database, user_id: int) -> tuple[list[str], list[str]]:
    with db.session() as session:
        user = session.execute(
            select(User).options(selectinload(User.expert_topics)).where(User.id == user_id)
        ).scalar_one()
        return list(user.roles), [t.slug for t in user.expert_topics]


def events(db: Database, action: str | None = None) -> list[AuditEvent]:
    with db.session() as session:
        query = select(AuditEvent).order_by(AuditEvent.seq)
        if action:
            query = query.where(AuditEvent.action == action)
        return list(session.execute(query).scalars())


def count_users(db: Database) -> int:
    with db.session() as session:
        return int(session.execute(select(func.count()).select_from(User)).scalar_one())


def failures(db: Database) -> list[dict[str, Any]]:
    return [e.payload for e in events(db, "auth.login") if e.outcome == "failure"]


# --- signing in -------------------------------------------------------------------


def test_a_first_sign_in_creates_the_person_with_the_roles_of_their_groups(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    came_back = sign_in(site, provider)
    assert came_back.status_code == 303, came_back.text
    assert came_back.headers["location"] == "/profile"
    ada = user_named(db, "Ada Lovelace")
    assert ada is not None
    assert (ada.username, ada.email) == ("ada", "ada@example.org")
    assert (ada.identity_issuer, ada.identity_subject) == (provider.issuer, "sub-ada")
    assert roles_of(db, ada.id) == (["rep", "expert"], ["claims"])
    # The session is the same as after a password sign-in: the pages know who this is.
    assert "Ada Lovelace" in site.get("/profile").text
    # Created by the provider, given its groups' roles, signed in: three events.
    (created,) = events(db, "user.create")
    assert created.actor_username == f"oidc:{provider.issuer}"
    assert created.payload["via"] == f"oidc:{provider.issuer}"
    (change,) = events(db, "user.roles_change")
    assert change.target_id == str(ada.id)
    assert change.payload["before"] == {"roles": ["rep"], "expert_topics": []}
    assert change.payload["after"] == {"roles": ["rep", "expert"], "expert_topics": ["claims"]}
    assert change.payload["via"] == f"oidc:{provider.issuer}"
    (login,) = events(db, "auth.login")
    assert login.outcome == "success"
    assert login.actor_id == ada.id
    assert login.payload["method"] == "oidc"
    assert login.payload["provider"] == provider.issuer


def test_later_sign_ins_follow_the_groups_and_a_removed_group_takes_its_role_away(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    assert sign_in(site, provider).status_code == 303
    ada = user_named(db, "Ada Lovelace")
    assert ada is not None
    provider.set_account(
        "ada", name="Ada King", email="ada.king@example.org", groups=["staff", "auditors"]
    )
    assert sign_in(site, provider).status_code == 303
    assert roles_of(db, ada.id) == (["rep", "compliance"], [])
    renamed = user_named(db, "Ada King")
    assert renamed is not None and renamed.id == ada.id
    assert renamed.email == "ada.king@example.org"
    last = events(db, "user.roles_change")[-1]
    assert last.payload["before"] == {"roles": ["rep", "expert"], "expert_topics": ["claims"]}
    assert last.payload["after"] == {"roles": ["rep", "compliance"], "expert_topics": []}
    assert last.payload["via"] == f"oidc:{provider.issuer}"
    assert events(db, "user.update")[-1].payload["after"] == {
        "display_name": "Ada King",
        "email": "ada.king@example.org",
    }
    # Nothing changed since: a third sign-in writes no role change.
    before = len(events(db, "user.roles_change"))
    assert sign_in(site, provider).status_code == 303
    assert len(events(db, "user.roles_change")) == before
    assert count_users(db) == 1


def test_deactivation_in_vouch_wins_over_the_provider(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    assert sign_in(site, provider).status_code == 303
    ada = user_named(db, "Ada Lovelace")
    assert ada is not None
    with session_scope(db) as session:
        session.get_one(User, ada.id).active = False
    provider.set_account("ada", name="Ada Lovelace", email="ada@example.org", groups=["auditors"])
    refused = sign_in(site, provider)
    assert refused.status_code == 403
    assert "deactivated" in refused.text
    assert "vouch_session" not in refused.headers.get("set-cookie", "")
    assert roles_of(db, ada.id) == (["rep", "expert"], ["claims"])  # unchanged
    assert failures(db)[-1]["reason"] == "inactive"


def test_the_sign_in_page_offers_the_provider(site: TestClient) -> None:
    page = site.get("/login", params={"next": "/reviews"})
    assert "Sign in with Example Corp" in page.text
    assert 'href="/auth/oidc/login?next=%2Freviews"' in page.text
    assert 'name="password"' in page.text  # passwords stay on unless turned off


def test_signing_out_ends_the_session_at_the_provider_too(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    callback = provider_page(site, provider, "ada")
    assert come_back(site, callback).status_code == 303
    out = submit(site, "/logout", {}, csrf_of(site.get("/profile").text))
    assert out.status_code == 303
    target = urlsplit(out.headers["location"])
    discovery = httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()
    assert f"{target.scheme}://{target.netloc}{target.path}" == discovery["end_session_endpoint"]
    query = parse_qs(target.query)
    assert query == {"client_id": [CLIENT_ID], "post_logout_redirect_uri": [f"{SITE}/login"]}
    with httpx.Client(timeout=10) as browser:
        assert provider.sign_out(browser, out.headers["location"]) == f"{SITE}/login"
    assert site.get("/profile").status_code == 303  # signed out here as well
    assert events(db, "auth.logout")


def test_keys_rotated_at_the_provider_are_fetched_again(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    assert sign_in(site, provider).status_code == 303
    old_kid = provider.signing_key["kid"]
    provider.rotate_keys()
    assert provider.signing_key["kid"] != old_kid
    time.sleep(2.1)  # the key set may be fetched again once it is 2 s old
    assert sign_in(site, provider).status_code == 303
    assert [e.outcome for e in events(db, "auth.login")] == ["success", "success"]


# --- refused ------------------------------------------------------------------------


def claims_of(provider: OidcProvider, id_token: str) -> dict[str, Any]:
    return dict(jwt.decode(id_token, KeySet.import_key_set(provider.jwks)).claims)


def signed(key: dict[str, Any], claims: dict[str, Any]) -> str:
    header = {"alg": "RS256", "kid": key["kid"]}
    return jwt.encode(header, claims, RSAKey.import_key(key))


def resigned(provider: OidcProvider, **changes: Any) -> Callable[[str], str]:
    """A rewrite of the provider's ID token: its claims changed, signed with its own key."""
    return lambda token: signed(provider.signing_key, {**claims_of(provider, token), **changes})


def tampered(token: str) -> str:
    head, body, signature = token.split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    return ".".join([head, flipped, signature])


def wrongly_signed(provider: OidcProvider) -> Callable[[str], str]:
    """Signed with a key of the same id that is not the provider's."""

    def rewrite(token: str) -> str:
        impostor = {**new_signing_key(), "kid": provider.signing_key["kid"]}
        return signed(impostor, claims_of(provider, token))

    return rewrite


BAD_TOKENS: dict[str, Callable[[OidcProvider], Callable[[str], str]]] = {
    "tampered": lambda provider: tampered,
    "expired": lambda provider: resigned(provider, exp=int(time.time()) - 600),
    "wrongly-signed": wrongly_signed,
    "wrong-audience": lambda provider: resigned(provider, aud="another-service"),
    "unknown-issuer": lambda provider: resigned(provider, iss="https://idp.example.net"),
    "wrong-nonce": lambda provider: resigned(provider, nonce="not-this-sign-in"),
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_a_bad_id_token_is_refused_audited_and_creates_nobody(
    site: TestClient, provider: OidcProvider, db: Database, kind: str
) -> None:
    provider.rewrite_id_tokens(BAD_TOKENS[kind](provider))
    refused = sign_in(site, provider)
    assert refused.status_code == 401
    assert "Sign-in refused" in refused.text
    assert "vouch_session" not in refused.headers.get("set-cookie", "")
    assert count_users(db) == 0
    (failure,) = failures(db)
    assert failure["method"] == "oidc"
    assert failure["reason"] == ("expired-id-token" if kind == "expired" else "invalid-id-token")


def test_an_id_token_replayed_into_another_sign_in_is_refused(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    seen: list[str] = []
    provider.rewrite_id_tokens(lambda token: seen.append(token) or token)
    assert sign_in(site, provider).status_code == 303
    provider.rewrite_id_tokens(lambda token: seen[0])  # the first sign-in's token again
    refused = sign_in(site, provider)
    assert refused.status_code == 401
    assert failures(db)[-1]["reason"] == "invalid-id-token"  # its nonce is the old one


def test_a_replayed_callback_is_refused_before_the_provider_is_asked(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    callback = provider_page(site, provider, "ada")
    pending = site.cookies.get("vouch_oidc")
    assert pending
    assert come_back(site, callback).status_code == 303
    site.cookies.set("vouch_oidc", pending, domain="testserver.local", path="/auth/oidc")
    replayed = come_back(site, callback)
    assert replayed.status_code == 400
    assert failures(db)[-1]["reason"] == "replayed-state"
    assert count_users(db) == 1


def test_a_callback_without_its_sign_in_or_with_another_state_is_refused(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    lost = site.get("/auth/oidc/callback", params={"code": "x", "state": "y"})
    assert lost.status_code == 400
    assert "expired" in lost.text
    callback = provider_page(site, provider, "ada")
    forged = callback.replace("state=", "state=other")
    assert come_back(site, forged).status_code == 400
    assert [f["reason"] for f in failures(db)] == ["no-pending-sign-in", "state-mismatch"]
    assert count_users(db) == 0


def test_a_provider_error_is_shown_and_audited(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    started = site.get("/auth/oidc/login")
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    denied = site.get(
        "/auth/oidc/callback",
        params={"error": "access_denied", "error_description": "<b>No</b>", "state": state},
    )
    assert denied.status_code == 401
    assert "&lt;b&gt;No&lt;/b&gt;" in denied.text  # escaped
    assert failures(db)[-1]["reason"] == "provider-error"


def test_a_missing_groups_claim_is_refused(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    provider.set_account("ada", name="Ada Lovelace", email="ada@example.org", groups=None)
    refused = sign_in(site, provider)
    assert refused.status_code == 403
    assert "sent no groups claim" in refused.text
    assert count_users(db) == 0
    assert failures(db)[-1]["reason"] == "no-groups-claim"


def test_a_provider_that_is_down_or_slow_is_a_503(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    provider.go_down()
    down = site.get("/auth/oidc/login")
    assert down.status_code == 503
    assert "Sign-in service unavailable" in down.text
    provider.come_back()
    callback = provider_page(site, provider, "ada")
    provider.set_delay(3.0)  # past the 2 s the service waits
    slow = come_back(site, callback)
    assert slow.status_code == 503
    provider.set_delay(0)
    assert [f["reason"] for f in failures(db)] == ["provider-unavailable"] * 2
    assert count_users(db) == 0


# --- passwords turned off -------------------------------------------------------------


@pytest.fixture
def sso_only(settings: Settings, db: Database, provider: OidcProvider) -> Iterator[TestClient]:
    local_off = sso_settings(settings, provider, local_login=False, break_glass_admin="root")
    with TestClient(create_app(local_off, db), base_url=SITE, follow_redirects=False) as client:
        yield client


def test_with_passwords_off_only_the_break_glass_admin_uses_one(
    sso_only: TestClient, db: Database, people: Any
) -> None:
    rep = people.make("rep")
    people.make("admin", username="root")
    refused = sso_only.post(
        "/api/v1/auth/token", json={"username": rep.username, "password": PASSWORD}
    )
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/local-login-off")
    assert failures(db)[-1] == {
        "username": rep.username,
        "method": "password",
        "reason": "local-login-off",
    }
    allowed = sso_only.post("/api/v1/auth/token", json={"username": "root", "password": PASSWORD})
    assert allowed.status_code == 200
    assert events(db, "auth.login")[-1].payload["method"] == "password"
    page = sso_only.get("/login")
    assert "Sign in with Example Corp" in page.text
    assert "Emergency administrator sign-in" in page.text
    form = sso_only.post(
        "/login",
        data={
            "username": rep.username,
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/",
        },
    )
    assert form.status_code == 403
    assert "Passwords are turned off" in form.text


def test_a_local_account_of_the_same_name_is_never_taken_over(
    site: TestClient, provider: OidcProvider, db: Database, people: Any
) -> None:
    local = people.make("admin", username="ada")
    assert sign_in(site, provider).status_code == 303
    newcomer = user_named(db, "Ada Lovelace")
    assert newcomer is not None and newcomer.id != local.id
    assert newcomer.username == "ada-2"
    assert roles_of(db, local.id) == (["admin"], [])  # the local admin is untouched


def test_settings_refuse_single_sign_on_without_a_client_and_no_way_to_sign_in() -> None:
    with pytest.raises(ValueError, match="VOUCH_OIDC_CLIENT_ID"):
        Settings(oidc_issuer="https://idp.example.org", _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="nobody could sign in"):
        Settings(local_login=False, _env_file=None)  # type: ignore[call-arg]
    alone = Settings(local_login=False, break_glass_admin="root", _env_file=None)  # type: ignore[call-arg]
    assert not alone.sso_on


def test_a_code_the_provider_never_issued_is_refused(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    callback = provider_page(site, provider, "ada")
    code = parse_qs(urlsplit(callback).query)["code"][0]
    refused = come_back(site, callback.replace(code, "forged-code"))
    assert refused.status_code == 401
    assert failures(db)[-1]["reason"] == "code-refused"
    assert count_users(db) == 0


def test_the_web_session_ends_when_its_token_expires(
    site: TestClient, provider: OidcProvider, db: Database
) -> None:
    signed_in = sign_in(site, provider)
    cookie = next(
        c for c in signed_in.headers.get_list("set-cookie") if c.startswith("vouch_session=")
    )
    (login,) = events(db, "auth.login")
    expires = datetime.fromisoformat(login.payload["expires_at"])
    assert format_datetime(expires.astimezone(UTC), usegmt=True) in cookie  # the token's end
    assert site.get("/profile").status_code == 200
    with session_scope(db) as session:
        token = session.get_one(ApiToken, login.payload["token_id"])
        token.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    ended = site.get("/profile")
    assert ended.status_code == 303
    assert ended.headers["location"].startswith("/login")
