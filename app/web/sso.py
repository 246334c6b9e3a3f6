"""Single sign-on pages: off to the identity provider and back (docs/single-sign-on.md).

`GET /auth/oidc/login` keeps the sign-in's state, nonce and PKCE verifier in a signed,
short-lived cookie and sends the browser to the provider; `GET /auth/oidc/callback`
checks what comes back, signs the person in (creating or updating them, in one
transaction with its audit events) and starts the same session a password sign-in does.
Every refusal is an error page with a 4xx status (503: the provider is down) and a
failed `auth.login` event, with no user created or changed.
"""

from contextlib import suppress
from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.responses import RedirectResponse, Response

from app.audit.service import AuditContext
from app.auth import identities
from app.auth.oidc import Pending, Provider, ProviderUnavailable, SignInRefused
from app.config import Settings
from app.db import session_scope
from app.deps import RequestContext, SettingsDep
from app.errors import AppError, NotFound, RateLimited
from app.web.render import render
from app.web.session import local_path, secure_cookies, start_session

router = APIRouter(prefix="/auth/oidc")

PENDING_COOKIE = "vouch_oidc"
PENDING_PATH = "/auth/oidc"
# Seconds a person has at the provider's sign-in page before starting again.
PENDING_SECONDS = 600
# The ID token, kept for signing out at the provider, when it fits in a cookie.
ID_TOKEN_COOKIE = "vouch_oidc_id"
MAX_HINT_BYTES = 3500


def provider_of(request: Request) -> Provider:
    """The app's identity provider (its endpoints and keys cached); 404 when none is set."""
    provider: Provider | None = getattr(request.app.state, "oidc", None)
    if provider is None:
        raise NotFound("Single sign-on is not set up here.")
    return provider


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt="vouch-oidc-sign-in")


def _refused(
    request: Request,
    settings: Settings,
    ctx: AuditContext,
    provider: Provider,
    error: SignInRefused | ProviderUnavailable,
    subject: str = "",
) -> Response:
    """The error page of a sign-in that did not go through, its failure audited (past
    the client's login limit: a 429 page, and nothing written)."""
    reason = error.reason if isinstance(error, SignInRefused) else "provider-unavailable"
    shown: AppError = error
    try:
        with session_scope(request.app.state.db) as session:
            identities.refuse(session, settings, ctx, reason, provider.issuer, subject)
    except RateLimited as limited:
        shown = limited
    context = {"status": shown.status, "title": shown.title, "detail": shown.detail}
    response = render(
        request, "auth/sso_error.html", context, status=shown.status, headers=shown.headers
    )
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    return response


def _keep(
    response: Response,
    settings: Settings,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    expires: datetime | None = None,
) -> None:
    """A cookie of the sign-on's own, on its paths only, out of scripts' reach; Lax: the
    provider's redirect back is a top-level navigation, which carries it."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        expires=expires,
        path=PENDING_PATH,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )


@router.get("/login")
def start(
    request: Request,
    settings: SettingsDep,
    ctx: RequestContext,
    next: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    provider = provider_of(request)
    pending = Pending.new(local_path(next))
    try:
        target = provider.authorization_url(pending)
    except ProviderUnavailable as exc:
        return _refused(request, settings, ctx, provider, exc)
    response = RedirectResponse(target, status_code=303)
    _keep(
        response,
        settings,
        PENDING_COOKIE,
        _serializer(settings).dumps(asdict(pending)),
        max_age=PENDING_SECONDS,
    )
    return response


def _pending(request: Request, settings: Settings, state: str | None) -> Pending:
    raw = request.cookies.get(PENDING_COOKIE)
    try:
        kept = _serializer(settings).loads(raw or "", max_age=PENDING_SECONDS)
        pending = Pending(**kept)
    except (BadData, TypeError):
        raise SignInRefused(
            "This sign-in has expired or was started in another browser; start again.",
            "no-pending-sign-in",
            status=400,
        ) from None
    if not state or state != pending.state:
        raise SignInRefused(
            "The sign-in service's answer does not belong to this sign-in; start again.",
            "state-mismatch",
            status=400,
        )
    return pending


@router.get("/callback")
def finish(
    request: Request,
    settings: SettingsDep,
    ctx: RequestContext,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
    error_description: Annotated[str | None, Query(max_length=1024)] = None,
) -> Response:
    provider = provider_of(request)
    subject = ""
    try:
        pending = _pending(request, settings, state)
        with session_scope(request.app.state.db) as session:
            identities.spend(session, pending)
        if error or not code:
            said = f" It said: {error_description or error}." if error else ""
            raise SignInRefused(f"The sign-in service did not sign you in.{said}", "provider-error")
        id_token = provider.exchange(code, pending.verifier)
        claims = provider.verify(id_token, pending.nonce)
        subject = str(claims["sub"])
        identity = identities.identity_of(settings, claims)
        with session_scope(request.app.state.db) as session:
            _, token, expires_at = identities.sign_in(session, settings, ctx, identity)
    except (ProviderUnavailable, SignInRefused) as exc:
        # The sign-in's transaction has rolled back: nobody was created or changed.
        return _refused(request, settings, ctx, provider, exc, subject)
    response = RedirectResponse(pending.next_url, status_code=303)
    start_session(response, settings, token, expires_at)
    response.delete_cookie(PENDING_COOKIE, path=PENDING_PATH)
    if len(id_token) <= MAX_HINT_BYTES:
        # For signing out at the provider later (`id_token_hint`, which some require).
        _keep(response, settings, ID_TOKEN_COOKIE, id_token, expires=expires_at)
    return response


@router.get("/logout")
def sign_out_at_the_provider(request: Request, settings: SettingsDep) -> Response:
    """Where signing out sends a person of the provider, once Vouch's token is revoked:
    on to the provider's end-session endpoint (RP-initiated logout), which comes back to
    the sign-in page; straight there without one, or while the provider is down. No
    database here, so nothing is held while the provider is asked."""
    provider: Provider | None = getattr(request.app.state, "oidc", None)
    target = "/login"
    if provider is not None:
        after = settings.public_url.rstrip("/") + "/login"
        hint = request.cookies.get(ID_TOKEN_COOKIE)
        # Signed out here either way; while the provider is down, its session ends on its own.
        with suppress(ProviderUnavailable):
            target = provider.logout_url(after, hint) or target
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(ID_TOKEN_COOKIE, path=PENDING_PATH)
    return response
