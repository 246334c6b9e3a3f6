"""Personal access tokens: named, expiring bearer tokens a person makes for their scripts.

Someone who signs in through single sign-on has no password to send to
`POST /auth/token`; a personal access token is how their scripts call the API. It is an
`ApiToken` row with a `name`, checked exactly like a sign-in's token (expiry, revocation,
deactivation), and shown to its holder once, when it is made.
"""

import secrets
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.auth.models import ApiToken
from app.auth.service import token_digest
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound
from app.users.models import User

MAX_DAYS = 365
DEFAULT_DAYS = 30


class TokenStatus(StrEnum):
    live = "live"
    expired = "expired"
    revoked = "revoked"


def status_of(token: ApiToken, now: datetime) -> TokenStatus:
    if token.revoked_at is not None:
        return TokenStatus.revoked
    if token.expires_at <= now:
        return TokenStatus.expired
    return TokenStatus.live


class MintedByPersonalToken(Forbidden):
    problem, title = "personal-token-mints", "A personal access token cannot make tokens"


def _check_sign_in_token(session: Session, settings: Settings, used_token: str) -> None:
    """Refuse a request made with a personal access token: a leaked one must not be able
    to make others that outlive its own revocation."""
    used = session.execute(
        select(ApiToken.name).where(ApiToken.token_hash == token_digest(settings, used_token))
    ).scalar_one_or_none()
    if used is not None:
        raise MintedByPersonalToken(
            "Personal access tokens are made from a sign-in (the web page or a login "
            "token), not with another personal access token."
        )


def create(
    session: Session,
    settings: Settings,
    ctx: AuditContext,
    user: User,
    name: str,
    expires_in_days: int,
    *,
    used_token: str,
) -> tuple[ApiToken, str]:
    """Make a personal access token for `user`; returns its row and its secret, which is
    stored only as its keyed hash and so can never be shown again.

    `used_token` is the token of the request: one that is itself a personal access token
    is refused (403).
    """
    _check_sign_in_token(session, settings, used_token)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_hash=token_digest(settings, secret),
        expires_at=utcnow() + timedelta(days=expires_in_days),
        name=name,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        ctx,
        "auth.token_create",
        target_type="api_token",
        target_id=row.id,
        payload={"token_id": row.id, "name": name, "expires_at": row.expires_at.isoformat()},
    )
    return row, secret


def listing(session: Session, user: User) -> list[ApiToken]:
    """The personal access tokens of `user`, live or not, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.name.is_not(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return list(session.execute(query).scalars())


def revoke(session: Session, ctx: AuditContext, user: User, token_id: int) -> ApiToken:
    """Revoke one of `user`'s personal access tokens: it fails from the next request on.

    404 for a token that is not theirs or is a sign-in's token (the same answer, so ids
    of other people's tokens cannot be probed); 409 for one already revoked. An expired
    token may still be revoked: it is then listed as revoked.
    """
    row = session.execute(
        select(ApiToken).where(
            ApiToken.id == token_id, ApiToken.user_id == user.id, ApiToken.name.is_not(None)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"You have no personal access token {token_id}.")
    if row.revoked_at is not None:
        raise Conflict(f"The personal access token {row.name!r} is already revoked.")
    row.revoked_at = utcnow()
    audit.record(
        session,
        ctx,
        "auth.token_revoke",
        target_type="api_token",
        target_id=row.id,
        payload={"token_id": row.id, "name": row.name},
    )
    return row
