"""Login, bearer tokens and login rate limiting."""

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, joinedload, selectinload

from app.audit import service as audit
from app.audit.service import Actor, AuditContext
from app.auth.models import ApiToken, LoginAttempt
from app.auth.passwords import verify_password
from app.config import Settings
from app.db import Database, utcnow
from app.errors import InvalidCredentials, LocalLoginOff, NotAuthenticated, RateLimited
from app.notifications.service import unread_of
from app.observability.metrics import LOGIN_FAILURES
from app.users.models import User

RATE_WINDOW = timedelta(minutes=1)


def token_digest(settings: Settings, token: str) -> str:
    """The keyed hash under which a token is stored; the token itself never is."""
    return hmac.new(settings.secret_key.encode(), token.encode(), hashlib.sha256).hexdigest()


def _check_rate_limit(session: Session, settings: Settings, username: str, client_ip: str) -> None:
    """Refuse further attempts after too many recent failures for the account or the client.

    Only failures count: people behind one office address logging in successfully
    must not lock each other out.
    """
    since = utcnow() - RATE_WINDOW
    limit = settings.login_attempts_per_minute
    for column, value, scope in (
        (LoginAttempt.username, username, "this account"),
        (LoginAttempt.client_ip, client_ip, "this client"),
    ):
        count, oldest = session.execute(
            select(func.count(), func.min(LoginAttempt.attempted_at)).where(
                column == value,
                LoginAttempt.attempted_at > since,
                LoginAttempt.succeeded.is_(False),
            )
        ).one()
        if count >= limit:
            LOGIN_FAILURES.labels("rate-limited").inc()
            retry_after = max(1, int((oldest + RATE_WINDOW - utcnow()).total_seconds()) + 1)
            raise RateLimited(
                f"Too many login attempts for {scope}; try again in {retry_after} s.",
                retry_after=retry_after,
            )


def login(
    session: Session, settings: Settings, ctx: AuditContext, username: str, password: str
) -> tuple[str, datetime]:
    """Check the credentials and issue a token; every attempt is recorded and audited.

    Raises `RateLimited` past the per-account or per-client limit (nothing
    recorded), and `InvalidCredentials` on a failure, which still commits the
    attempt and its audit event.
    """
    if not settings.local_login and username != settings.break_glass_admin:
        LOGIN_FAILURES.labels("local-login-off").inc()
        audit.record(
            session,
            ctx,
            "auth.login",
            target_type="user",
            payload={"username": username, "method": "password", "reason": "local-login-off"},
            outcome="failure",
        )
        raise LocalLoginOff("Passwords are turned off here: sign in with single sign-on.")
    client_ip = ctx.client_ip or "unknown"
    _check_rate_limit(session, settings, username, client_ip)
    user = session.execute(
        select(User).options(selectinload(User.expert_topics)).where(User.username == username)
    ).scalar_one_or_none()
    password_ok = verify_password(user.password_hash if user else None, password)
    reason = None
    if user is None:
        reason = "unknown-user"
    elif not password_ok:
        reason = "bad-password"
    elif not user.active:
        reason = "inactive"
    session.add(LoginAttempt(username=username, client_ip=client_ip, succeeded=reason is None))
    if reason is not None or user is None:
        LOGIN_FAILURES.labels(reason or "unknown-user").inc()
        actor = Actor(user.id, user.username, tuple(user.roles)) if user else Actor()
        audit.record(
            session,
            ctx.as_actor(actor),
            "auth.login",
            target_type="user",
            target_id=user.id if user else None,
            payload={"username": username, "method": "password", "reason": reason},
            outcome="failure",
        )
        raise InvalidCredentials("The username or password is wrong, or the account is inactive.")

    return sign_in(session, settings, ctx, user, {"method": "password"})


def sign_in(
    session: Session, settings: Settings, ctx: AuditContext, user: User, how: dict[str, str]
) -> tuple[str, datetime]:
    """Issue a sign-in token to `user` and audit the `auth.login`, saying `how` (the
    method, and for single sign-on the provider)."""
    token = secrets.token_urlsafe(32)
    expires_at = utcnow() + timedelta(minutes=settings.token_ttl_minutes)
    row = ApiToken(user_id=user.id, token_hash=token_digest(settings, token), expires_at=expires_at)
    session.add(row)
    session.flush()
    audit.record(
        session,
        ctx.as_actor(Actor(user.id, user.username, tuple(user.roles))),
        "auth.login",
        target_type="user",
        target_id=user.id,
        payload={
            "username": user.username,
            **how,
            "token_id": row.id,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, expires_at


# One round trip, built once: the token, its holder and their expert topics joined.
_TOKEN_ROW = (
    select(ApiToken)
    .options(joinedload(ApiToken.user).joinedload(User.expert_topics))
    .where(ApiToken.token_hash == bindparam("digest"))
)


def _token_row(session: Session, settings: Settings, token: str) -> ApiToken | None:
    digest = {"digest": token_digest(settings, token)}
    return session.execute(_TOKEN_ROW, digest).unique().scalar_one_or_none()


_DEAD_TOKEN = "The token is unknown, expired or revoked."


def _check_live(expires_at: datetime, revoked_at: datetime | None, active: bool) -> None:
    if revoked_at is not None or expires_at <= utcnow():
        raise NotAuthenticated(_DEAD_TOKEN)
    if not active:
        raise NotAuthenticated("The account is deactivated.")


def user_for_token(session: Session, settings: Settings, token: str) -> User:
    """The active user holding this live token, with their expert topics; 401 otherwise."""
    row = _token_row(session, settings, token)
    if row is None:
        raise NotAuthenticated(_DEAD_TOKEN)
    _check_live(row.expires_at, row.revoked_at, row.user.active)
    return row.user


# The web pages' token check: with the unread notifications the header shows.
_TOKEN_ROW_AND_UNREAD = _TOKEN_ROW.add_columns(unread_of(ApiToken.user_id))


def user_and_unread_for_token(session: Session, settings: Settings, token: str) -> tuple[User, int]:
    """`user_for_token`, and the user's unread notifications counted in the same query."""
    digest = {"digest": token_digest(settings, token)}
    found = session.execute(_TOKEN_ROW_AND_UNREAD, digest).unique().one_or_none()
    if found is None:
        raise NotAuthenticated(_DEAD_TOKEN)
    row, unread = found
    _check_live(row.expires_at, row.revoked_at, row.user.active)
    return row.user, int(unread)


# Built once: the hot path of every search binds one value and reuses the compiled SQL.
_TOKEN_HOLDER = (
    select(
        User.id, User.username, User.roles, User.active, ApiToken.expires_at, ApiToken.revoked_at
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"))
)


def actor_for_token(db: Database, settings: Settings, token: str) -> Actor:
    """The same check as `user_for_token` in one query and no ORM session: who holds
    this live token, as the id, name and roles that read-only endpoints need."""
    row = db.read_one(_TOKEN_HOLDER, {"digest": token_digest(settings, token)})
    if row is None:
        raise NotAuthenticated(_DEAD_TOKEN)
    _check_live(row.expires_at, row.revoked_at, row.active)
    return Actor(row.id, row.username, tuple(row.roles))


def logout(session: Session, settings: Settings, ctx: AuditContext, token: str) -> User:
    """Revoke the token; returns whose it was."""
    row = _token_row(session, settings, token)
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("The token is unknown or already revoked.")
    row.revoked_at = utcnow()
    audit.record(
        session,
        ctx,
        "auth.logout",
        target_type="user",
        target_id=row.user_id,
        payload={"token_id": row.id},
    )
    return row.user


def revoke_all_tokens(session: Session, user_id: int) -> int:
    """Revoke every live token of a user; returns how many were revoked."""
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
