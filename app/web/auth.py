"""Sign-in and sign-out pages: the API's login and logout, with the token in a cookie."""

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import Response

from app.auth import service as auth_service
from app.auth.schemas import LoginRequest
from app.deps import RequestContext, SessionDep, SettingsDep
from app.errors import InvalidCredentials, LocalLoginOff, RateLimited
from app.limits.writes import uncounted
from app.users.models import User
from app.web.forms import FORM, errors_of
from app.web.render import redirect, render
from app.web.session import (
    MaybeUser,
    PageAuditCtx,
    end_session,
    keep_login_nonce,
    local_path,
    prepare_login_nonce,
    session_token,
    start_session,
)

router = APIRouter()


def _login_page(
    request: Request,
    settings: SettingsDep,
    *,
    next_url: str,
    username: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    nonce = prepare_login_nonce(request)
    context = {
        "next": next_url,
        "values": {"username": username},
        "errors": errors or {},
        "notice": None if errors else _notice(request),
        # "Sign in with <provider>", and whether the password form is for everyone or
        # only the break-glass admin.
        "sso_name": settings.oidc_provider_name if settings.sso_on else None,
        "sso_url": "/auth/oidc/login?" + urlencode({"next": next_url}),
        "local_login": settings.local_login,
    }
    response = render(request, "auth/login.html", context, status=status, headers=headers)
    keep_login_nonce(response, settings, nonce)
    return response


def _notice(request: Request) -> str | None:
    if request.query_params.get("next") and session_token(request):
        return "Your session has ended. Sign in again to continue."
    if request.query_params.get("next"):
        return "Sign in to continue."
    return None


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, user: MaybeUser) -> Response:
    next_url = local_path(request.query_params.get("next"))
    if user is not None:
        return redirect(next_url)
    return _login_page(request, settings, next_url=next_url)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: RequestContext,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    next_url = local_path(next)
    try:
        body = LoginRequest.model_validate({"username": username, "password": password})
    except ValidationError as exc:
        return _login_page(
            request,
            settings,
            next_url=next_url,
            username=username,
            errors=errors_of(exc),
            status=422,
        )
    try:
        token, expires_at = auth_service.login(session, settings, ctx, body.username, body.password)
    except (InvalidCredentials, LocalLoginOff, RateLimited) as exc:
        # Returned, not raised: a failed attempt and its audit event are committed (401),
        # as is a password refused where passwords are off (403); past the limit, 429.
        return _login_page(
            request,
            settings,
            next_url=next_url,
            username=username,
            errors={FORM: exc.detail},
            status=exc.status,
            # Retry-After, past the limit (a page sends no WWW-Authenticate).
            headers=exc.headers if isinstance(exc, RateLimited) else None,
        )
    response = redirect(next_url)
    start_session(response, settings, token, expires_at)
    return response


@router.post("/logout")
@uncounted
def logout(
    request: Request, session: SessionDep, settings: SettingsDep, ctx: PageAuditCtx
) -> Response:
    token = session_token(request)
    assert token is not None  # PageAuditCtx has signed the user in with it
    user = auth_service.logout(session, settings, ctx, token)
    response = redirect(_after_logout(request, user), flash="You have signed out.")
    end_session(response)
    return response


def _after_logout(request: Request, user: User) -> str:
    """The sign-in page; for someone signed in by the provider, first the provider's own
    sign-out (`/auth/oidc/logout`), which comes back to it."""
    provider = getattr(request.app.state, "oidc", None)
    if provider is None or user.identity_issuer != provider.issuer:
        return "/login"
    return "/auth/oidc/logout"
