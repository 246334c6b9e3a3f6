"""The test OpenID provider (tests/support/oidc_provider.py) behaves as the sign-in tests
need: a real code flow with PKCE, claims in the ID token, and the proxy's faults."""

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet, RSAKey

from tests.support.oidc_provider import OidcProvider, OidcProviderError

pytestmark = pytest.mark.oidc

CLIENT_ID = "vouch"
CLIENT_SECRET = "a client secret of the tests"
REDIRECT_URI = "http://127.0.0.1:9/auth/oidc/callback"
LOGGED_OUT_URI = "http://127.0.0.1:9/signed-out"


@pytest.fixture
def provider(tmp_path: Path) -> Iterator[OidcProvider]:
    with OidcProvider(
        tmp_path / "oidc",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[LOGGED_OUT_URI],
    ) as started:
        started.set_account("ada", name="Ada Lovelace", email="ada@example.org", groups=["experts"])
        yield started


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def discovery(provider: OidcProvider) -> dict[str, Any]:
    return httpx.get(f"{provider.issuer}/.well-known/openid-configuration").json()


def sign_in(provider: OidcProvider, browser: httpx.Client, login: str = "ada") -> dict[str, Any]:
    """A relying party's whole code flow with PKCE; the token endpoint's answer, with the ID
    token's claims under "claims" (checked against the published keys)."""
    metadata = discovery(provider)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email groups",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
    }
    callback = provider.sign_in(
        browser, f"{metadata['authorization_endpoint']}?{urlencode(query)}", login
    )
    assert callback.startswith(REDIRECT_URI)
    params = parse_qs(urlsplit(callback).query)
    assert params["state"] == [state]
    response = httpx.post(
        metadata["token_endpoint"],
        auth=(CLIENT_ID, CLIENT_SECRET),
        data={
            "grant_type": "authorization_code",
            "code": params["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    keys = KeySet.import_key_set(httpx.get(metadata["jwks_uri"]).json())
    tokens["claims"] = jwt.decode(tokens["id_token"], keys, algorithms=["RS256"]).claims
    assert tokens["claims"]["nonce"] == nonce
    return tokens


def test_discovery_names_the_proxy_as_issuer_and_endpoints(provider: OidcProvider) -> None:
    metadata = discovery(provider)

    assert metadata["issuer"] == provider.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        assert metadata[endpoint].startswith(f"{provider.issuer}/")
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert {"openid", "profile", "email", "groups"} <= set(metadata["scopes_supported"])


def test_code_flow_gives_an_id_token_with_profile_email_and_groups(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    claims = sign_in(provider, browser)["claims"]

    assert claims["iss"] == provider.issuer
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == "sub-ada"
    assert claims["name"] == "Ada Lovelace"
    assert claims["preferred_username"] == "ada"
    assert claims["email"] == "ada@example.org"
    assert claims["email_verified"] is True
    assert claims["groups"] == ["experts"]


def test_id_token_is_signed_with_the_signing_key(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    id_token = sign_in(provider, browser)["id_token"]

    header = jwt.decode(id_token, KeySet.import_key_set({"keys": [provider.signing_key]})).header
    assert header["alg"] == "RS256"
    assert header["kid"] == provider.signing_key["kid"]


def test_changed_groups_show_at_the_next_sign_in(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    sign_in(provider, browser)
    provider.set_account(
        "ada", name="Ada Lovelace", email="ada@example.org", groups=["experts", "admins"]
    )

    assert sign_in(provider, browser)["claims"]["groups"] == ["experts", "admins"]


def test_no_groups_leaves_the_claim_out(provider: OidcProvider, browser: httpx.Client) -> None:
    provider.set_account("ada", name="Ada Lovelace", email="ada@example.org", groups=None)

    assert "groups" not in sign_in(provider, browser)["claims"]


def test_unknown_login_is_refused(provider: OidcProvider, browser: httpx.Client) -> None:
    with pytest.raises(OidcProviderError, match="Unknown login"):
        sign_in(provider, browser, login="mallory")


def test_authorization_without_pkce_is_refused(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "state": "s",
        }
    )
    authorize = discovery(provider)["authorization_endpoint"]

    callback = provider.sign_in(browser, f"{authorize}?{query}", "ada")

    assert parse_qs(urlsplit(callback).query)["error"] == ["invalid_request"]


def test_rotated_keys_replace_the_published_key(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    jwks_uri = discovery(provider)["jwks_uri"]
    old_kid = provider.signing_key["kid"]

    provider.rotate_keys()

    published = [key["kid"] for key in httpx.get(jwks_uri).json()["keys"]]
    assert published == [provider.signing_key["kid"]] != [old_kid]
    id_token = sign_in(provider, browser)["id_token"]
    assert jwt.decode(id_token, KeySet.import_key_set({"keys": [provider.signing_key]}))


def test_rewritten_id_token_is_what_the_token_endpoint_returns(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    key = RSAKey.import_key(provider.signing_key)

    def for_another_audience(id_token: str) -> str:
        claims = jwt.decode(id_token, key).claims
        header = {"alg": "RS256", "kid": provider.signing_key["kid"]}
        return jwt.encode(header, {**claims, "aud": "another-client"}, key)

    provider.rewrite_id_tokens(for_another_audience)

    assert sign_in(provider, browser)["claims"]["aud"] == "another-client"


def test_tampered_id_token_fails_the_signature_check(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    provider.rewrite_id_tokens(lambda id_token: id_token[:-4] + "AAAA")

    with pytest.raises(BadSignatureError):
        sign_in(provider, browser)

    provider.rewrite_id_tokens(None)
    assert sign_in(provider, browser)["claims"]["name"] == "Ada Lovelace"


def test_delay_holds_responses_back(provider: OidcProvider) -> None:
    provider.set_delay(0.5)
    started = time.monotonic()

    discovery(provider)

    assert time.monotonic() - started >= 0.5


def test_gone_down_provider_refuses_connections_until_it_comes_back(
    provider: OidcProvider,
) -> None:
    provider.go_down()

    with pytest.raises(httpx.ConnectError):
        discovery(provider)

    provider.come_back()
    assert discovery(provider)["issuer"] == provider.issuer


def test_rp_initiated_logout_returns_to_the_post_logout_uri(
    provider: OidcProvider, browser: httpx.Client
) -> None:
    id_token = sign_in(provider, browser)["id_token"]
    end_session = discovery(provider)["end_session_endpoint"]
    assert end_session.startswith(f"{provider.issuer}/")
    query = urlencode(
        {"id_token_hint": id_token, "post_logout_redirect_uri": LOGGED_OUT_URI, "state": "bye"}
    )

    returned = provider.sign_out(browser, f"{end_session}?{query}")

    assert returned == f"{LOGGED_OUT_URI}?state=bye"
