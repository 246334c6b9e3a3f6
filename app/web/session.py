"""Signing in from a browser: the API's token in a cookie, CSRF tokens, the page user.

The cookie holds the very token `POST /auth/token` issues, so the token check,
expiry, revocation and deactivation are the API's own (`auth.service.user_for_token`).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request, Response

from app.audit.service import AuditContext
from app.auth import service as auth_service
from app.config import Settings
from app.deps import (
    CONTRIBUTORS,
    CURATORS,
    SAFE_METHODS,
    RequestContext,
    SessionDep,
    SettingsDep,
    actor_of,
    note_user,
    require_role,
)
from app.errors import AppError, NotAuthenticated
from app.limits.writes import count_write, counts
from app.users.models import Role, User

SESSION_COOKIE = "vouch_session"
# Before sign-in there is no session to bind a CSRF token to: the login form is bound to
# a random value in a cookie of its own (double submit).
LOGIN_COOKIE = "vouch_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Viewer:
    """Who the layout shows as signed in: plain values, still readable on an error page
    after the request's session has rolled back."""

    id: int
    username: str
    display_name: str
    roles: tuple[str, ...]
    unread: int = 0  # notifications, for the header

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class CsrfRejected(AppError):
    status, problem, title = 403, "csrf", "Form expired or forged"


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def _sign(settings: Settings, purpose: str, value: str) -> str:
    key = settings.secret_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(settings: Settings, request: Request) -> str:
    """The CSRF token of this browser: bound to its session token, or before sign-in to
    its login cookie (see `prepare_login_nonce`)."""
    token = session_token(request)
    if token:
        return _sign(settings, "csrf", token)
    nonce = request.cookies.get(LOGIN_COOKIE) or getattr(request.state, "login_nonce", "")
    return _sign(settings, "login-csrf", nonce) if nonce else ""


def prepare_login_nonce(request: Request) -> str | None:
    """Make the value a visitor's login form is bound to, when their browser has none yet;
    the caller sets it as a cookie with `keep_login_nonce`."""
    if request.cookies.get(LOGIN_COOKIE):
        return None
    nonce = secrets.token_urlsafe(16)
    request.state.login_nonce = nonce
    return nonce


def keep_login_nonce(response: Response, settings: Settings, nonce: str | None) -> None:
    if nonce:
        response.set_cookie(
            LOGIN_COOKIE, nonce, httponly=True, samesite="lax", secure=secure_cookies(settings)
        )


async def verify_csrf(request: Request, settings: SettingsDep) -> None:
    """Every state-changing page request carries the CSRF token, as a form field or header."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        form = await request.form()
        field = form.get(CSRF_FIELD)
        sent = field if isinstance(field, str) else None
    expected = csrf_token(settings, request)
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRejected(
            "This form was not sent from a page of this session (or the session changed). "
            "Reload the page and try again."
        )


def secure_cookies(settings: Settings) -> bool:
    return settings.environment != "development" and settings.environment != "test"


def start_session(response: Response, settings: Settings, token: str, expires_at: datetime) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        expires=expires_at,
        httponly=True,
        samesite="lax",
        secure=secure_cookies(settings),
    )
    response.delete_cookie(LOGIN_COOKIE)


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


def page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User:
    """The user signed in with this browser's cookie: the API's token check, so an expired,
    revoked or deactivated session fails here on its next request (401, shown as the
    sign-in page)."""
    token = session_token(request)
    if token is None:
        raise NotAuthenticated("Sign in to continue.")
    user, unread = auth_service.user_and_unread_for_token(session, settings, token)
    note_user(request, user.id)
    request.state.viewer = Viewer(
        user.id, user.username, user.display_name, tuple(user.roles), unread
    )
    if counts(request):
        # A form's write counts against the same limit as the API's (429 page past it).
        count_write(session, settings, user.id)
    return user


def optional_page_user(request: Request, session: SessionDep, settings: SettingsDep) -> User | None:
    """The signed-in user, or None for a visitor (the sign-in page)."""
    if session_token(request) is None:
        return None
    try:
        return page_user(request, session, settings)
    except NotAuthenticated:
        return None


PageUser = Annotated[User, Depends(page_user)]
MaybeUser = Annotated[User | None, Depends(optional_page_user)]
PageContributor = Annotated[User, require_role(*CONTRIBUTORS, user_from=page_user)]
PageCurator = Annotated[User, require_role(*CURATORS, user_from=page_user)]
PageExpert = Annotated[User, require_role(Role.expert, user_from=page_user)]
PageCompliance = Annotated[User, require_role(Role.compliance, user_from=page_user)]
PageAdmin = Annotated[User, require_role(Role.admin, user_from=page_user)]


async def page_audit_context(ctx: RequestContext, user: PageUser) -> AuditContext:
    return ctx.as_actor(actor_of(user))


PageAuditCtx = Annotated[AuditContext, Depends(page_audit_context)]


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default`: no open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    return target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(local_path(here), safe="/")


def template_globals(request: Request) -> dict[str, Any]:
    """What every page's layout needs: the user (when known) and the CSRF token."""
    settings: Settings = request.app.state.settings
    return {
        "current_user": getattr(request.state, "viewer", None),
        "csrf_token": csrf_token(settings, request),
    }
