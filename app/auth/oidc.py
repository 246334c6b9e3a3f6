"""The OpenID Connect relying party: the authorization code flow with PKCE, and the ID
token checked against the provider's discovery document and signing keys.

What the provider says about the person (`Identity`) is turned into a Vouch user by
`app.auth.identities`; this module only talks to the provider and checks what it says.
"""

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from app.config import Settings
from app.errors import AppError

# Asymmetric signatures only: "none" and secrets shared with the client are refused.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"]
DISCOVERY_TTL_SECONDS = 3600.0
# A token signed with a key the cached set lacks makes the set be fetched again (the
# provider rotated its keys), at most this often, so forged key ids cannot flood it.
KEYS_REFETCH_SECONDS = 2.0
# How far the provider's clock may be ahead of ours.
LEEWAY_SECONDS = 60


class ProviderUnavailable(AppError):
    status, problem, title = 503, "identity-provider-unavailable", "Sign-in service unavailable"


class SignInRefused(AppError):
    """A single sign-on that must not go through; `reason` is what the audit event says.

    It keeps the request's changes: the failed `auth.login` event is committed.
    """

    status, problem, title = 401, "sign-in-refused", "Sign-in refused"
    keep_changes = True

    def __init__(self, detail: str, reason: str, *, status: int = 401) -> None:
        super().__init__(detail)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    jwks: str
    end_session: str | None


@dataclass(frozen=True)
class Pending:
    """One sign-in between its start and the provider's answer (kept in a signed cookie)."""

    state: str
    nonce: str
    verifier: str
    next_url: str

    @staticmethod
    def new(next_url: str) -> "Pending":
        token = secrets.token_urlsafe
        return Pending(token(24), token(24), token(48), next_url)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class Provider:
    """The configured identity provider, its endpoints and keys cached for the process."""

    def __init__(self, settings: Settings) -> None:
        # As configured: the discovery document and every ID token must name it exactly.
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret.get_secret_value()
        self.scopes = settings.oidc_scopes
        self.timeout = settings.oidc_timeout_seconds
        self.redirect_uri = settings.public_url.rstrip("/") + "/auth/oidc/callback"
        self._lock = threading.Lock()
        self._endpoints: tuple[float, Endpoints] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = httpx.get(url, timeout=self.timeout)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ProviderUnavailable(
                "The sign-in service does not answer; try again in a few minutes."
            ) from exc
        if not isinstance(document, dict):
            raise ProviderUnavailable("The sign-in service answered with something unexpected.")
        return document

    def endpoints(self) -> Endpoints:
        with self._lock:
            if self._endpoints and time.monotonic() - self._endpoints[0] < DISCOVERY_TTL_SECONDS:
                return self._endpoints[1]
        document = self._get_json(f"{self.issuer.rstrip('/')}/.well-known/openid-configuration")
        if document.get("issuer") != self.issuer:
            raise ProviderUnavailable(
                "The sign-in service's discovery document names another issuer."
            )
        try:
            found = Endpoints(
                authorization=str(document["authorization_endpoint"]),
                token=str(document["token_endpoint"]),
                jwks=str(document["jwks_uri"]),
                end_session=document.get("end_session_endpoint"),
            )
        except KeyError as exc:
            raise ProviderUnavailable(f"The discovery document lacks {exc.args[0]}.") from None
        with self._lock:
            self._endpoints = (time.monotonic(), found)
        return found

    def _key_set(self, *, refetch: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys
        if cached and not (refetch and time.monotonic() - cached[0] >= KEYS_REFETCH_SECONDS):
            return cached[1]
        try:
            keys = KeySet.import_key_set(self._get_json(self.endpoints().jwks))  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError) as exc:
            raise ProviderUnavailable("The sign-in service's signing keys do not read.") from exc
        with self._lock:
            self._keys = (time.monotonic(), keys)
        return keys

    def _client(self) -> OAuth2Client:
        return OAuth2Client(
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout,
        )

    def authorization_url(self, pending: Pending) -> str:
        with self._client() as client:
            url, _ = client.create_authorization_url(
                self.endpoints().authorization,
                state=pending.state,
                nonce=pending.nonce,
                code_verifier=pending.verifier,
            )
        return str(url)

    def logout_url(self, after: str) -> str | None:
        """Where to send a browser to sign out at the provider too, if it says."""
        end_session = self.endpoints().end_session
        if not end_session:
            return None
        query = httpx.QueryParams({"client_id": self.client_id, "post_logout_redirect_uri": after})
        return str(httpx.URL(end_session).copy_merge_params(query))

    def exchange(self, code: str, verifier: str) -> str:
        """The ID token the provider gives for this authorization code."""
        endpoint = self.endpoints().token
        try:
            with self._client() as client:
                token = client.fetch_token(endpoint, code=code, code_verifier=verifier)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                "The sign-in service does not answer; try again in a few minutes."
            ) from exc
        except AuthlibBaseError as exc:
            raise SignInRefused(
                "The sign-in service refused the sign-in; start again.", "code-refused"
            ) from exc
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise SignInRefused("The sign-in service sent no ID token.", "no-id-token")
        return id_token

    def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once its signature, issuer, audience, times and nonce hold."""
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), algorithms=ALGORITHMS)
            except InvalidKeyIdError:
                decoded = jwt.decode(id_token, self._key_set(refetch=True), algorithms=ALGORITHMS)
            claims = decoded.claims
            jwt.JWTClaimsRegistry(
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": self.issuer},
                sub={"essential": True},
                aud={"essential": True, "value": self.client_id},
                exp={"essential": True},
                iat={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(claims)
        except ExpiredTokenError:
            raise SignInRefused(
                "The ID token has expired; sign in again.", "expired-id-token"
            ) from None
        except (JoseError, ValueError, TypeError) as exc:
            raise SignInRefused(
                "The ID token is not valid for this service.", "invalid-id-token"
            ) from exc
        audience = claims["aud"]
        if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != self.client_id:
            raise SignInRefused("The ID token was issued to another party.", "invalid-id-token")
        return claims
