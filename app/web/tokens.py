"""`/profile/tokens`: the signed-in person's personal access tokens, for their scripts
(make one, see it once, revoke it). The same service as `/api/v1/auth/tokens`."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.auth import personal_tokens
from app.auth.schemas import PersonalTokenIn
from app.db import utcnow
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.limits.writes import uncounted
from app.schemas import ObjectId
from app.users.models import User
from app.web.forms import FormRefused, errors_of
from app.web.render import redirect, render
from app.web.session import PageAuditCtx, PageUser, session_token

router = APIRouter(prefix="/profile/tokens")

PAGE = "profile/tokens.html"
MESSAGES = {
    "name": "Enter a name of at most 100 characters, on one line.",
    "expires_in_days": f"Enter a whole number of days from 1 to {personal_tokens.MAX_DAYS}.",
}
STATUS_LABELS = {
    personal_tokens.TokenStatus.live: "Live",
    personal_tokens.TokenStatus.expired: "Expired",
    personal_tokens.TokenStatus.revoked: "Revoked",
}
_DAYS = re.compile(r"[0-9]{1,4}")


def _context(session: Session, user: User, values: dict[str, str] | None = None) -> dict[str, Any]:
    """Plain values (a refused form renders after the session rolled back)."""
    now = utcnow()
    tokens = []
    for token in personal_tokens.listing(session, user):
        status = personal_tokens.status_of(token, now)
        tokens.append(
            {
                "id": token.id,
                "name": token.name,
                "created_at": token.created_at,
                "expires_at": token.expires_at,
                "status": str(status),
                "status_label": STATUS_LABELS[status],
            }
        )
    return {
        "tokens": tokens,
        "values": values or {"name": "", "expires_in_days": str(personal_tokens.DEFAULT_DAYS)},
        "errors": {},
        "created": None,
        "max_days": personal_tokens.MAX_DAYS,
    }


@router.get("")
def tokens_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    return render(request, PAGE, _context(session, user))


@router.post("")
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    ctx: PageAuditCtx,
    name: Annotated[str, Form()] = "",
    expires_in_days: Annotated[str, Form()] = "",
) -> Response:
    values = {"name": name, "expires_in_days": expires_in_days}
    days = expires_in_days.strip()
    try:
        body = PersonalTokenIn.model_validate(
            {"name": name, "expires_in_days": int(days) if _DAYS.fullmatch(days) else days}
        )
        row, secret = personal_tokens.create(
            session,
            settings,
            ctx,
            user,
            body.name,
            body.expires_in_days,
            used_token=session_token(request) or "",
        )
    except ValidationError as exc:
        errors = {k: MESSAGES.get(k, v) for k, v in errors_of(exc).items()}
        raise FormRefused(PAGE, _context(session, user, values), errors) from None
    except AppError as exc:
        context = _context(session, user, values)
        raise FormRefused(PAGE, context, errors_of(exc), status=exc.status) from None
    # The secret is shown this once, on the page the form leads to; a reload or a later
    # visit shows the list without it.
    context = _context(session, user)
    context["created"] = {"name": row.name, "expires_at": row.expires_at, "secret": secret}
    return render(request, PAGE, context)  # every page is sent with no-store


@router.post("/{token_id}/revoke")
@uncounted
def revoke_token(
    session: SessionDep, user: PageUser, ctx: PageAuditCtx, token_id: ObjectId
) -> Response:
    try:
        row = personal_tokens.revoke(session, ctx, user, token_id)
    except AppError as exc:  # not theirs, or already revoked
        return redirect("/profile/tokens", exc.detail)
    return redirect("/profile/tokens", f"Revoked {row.name}: scripts using it are refused now.")
