"""Request-scoped dependencies: settings, the session, the current user and roles."""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import anyio
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from app.audit.service import Actor, AuditContext
from app.auth import service as auth_service
from app.config import Settings
from app.db import Database
from app.errors import AppError, Forbidden, NotAuthenticated
from app.limits.writes import count_write, counts
from app.users.models import Role, User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# Dependencies that do no I/O are `async def`: FastAPI runs them on the event loop
# instead of handing each to the thread pool.


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's one session: it commits once when the handler succeeds.

    An `AppError` marked `keep_changes` (a failed login) still commits what the
    handler recorded; every other error rolls everything back.

    `async`: making a session does no I/O, so only its end (the commit or rollback, which
    do) takes a trip to the thread pool; the handler and its other dependencies use it
    from there, one at a time.
    """
    db = get_database(request)
    write = request.method not in SAFE_METHODS
    session = db.session(write=write)
    # A read session on PostgreSQL has no transaction to end (its connections are in
    # autocommit): its end does no I/O, and needs no trip to the thread pool.
    blocking = write or not db.reads_autocommit
    try:
        yield session
    except AppError as exc:
        await _finish(session, commit=exc.keep_changes, blocking=blocking)
        raise
    except BaseException:
        await _finish(session, commit=False, blocking=blocking)
        raise
    else:
        await _finish(session, commit=True, blocking=blocking)


async def _finish(session: Session, *, commit: bool, blocking: bool) -> None:
    def finish() -> None:
        try:
            if commit:
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    if not blocking:
        finish()
        return
    # Shielded: a request cancelled meanwhile (its client gone) still ends its
    # transaction and returns the connection to the pool.
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(finish)


SettingsDep = Annotated[Settings, Depends(get_settings)]
# "function" scope: the commit happens before the response is sent, so a client
# never sees success for a write that then failed to commit.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="The access token from POST /auth/token.")


async def bearer_credentials(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> HTTPAuthorizationCredentials:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated()
    return credentials


BearerToken = Annotated[HTTPAuthorizationCredentials, Depends(bearer_credentials)]


def note_user(request: Request, user_id: int) -> None:
    """Put the signed-in user's id on the request's state: the access log line names it."""
    request.state.user_id = user_id


def get_current_user(
    request: Request, session: SessionDep, settings: SettingsDep, credentials: BearerToken
) -> User:
    """The token's holder; a write (any method but GET, HEAD, OPTIONS) is counted against
    their write rate limit, in the write's own transaction (429 past it)."""
    user = auth_service.user_for_token(session, settings, credentials.credentials)
    note_user(request, user.id)
    if counts(request):
        count_write(session, settings, user.id)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def viewer(request: Request, credentials: HTTPAuthorizationCredentials) -> Actor:
    """The signed-in user as id, name and roles: the token check of `CurrentUser` in one
    query and no session, for read-only endpoints that need nothing more (search).

    It blocks on the database: call it from the thread pool.
    """
    settings: Settings = request.app.state.settings
    actor = auth_service.actor_for_token(get_database(request), settings, credentials.credentials)
    if actor.id is not None:
        note_user(request, actor.id)
    return actor


def check_roles(user: User, roles: tuple[Role, ...]) -> User:
    """`user` when they hold one of `roles`; 403 otherwise."""
    if not user.has_role(*roles):
        allowed = ", ".join(roles)
        raise Forbidden(f"This action needs one of the roles: {allowed}.")
    return user


def require_role(*roles: Role, user_from: Callable[..., User] = get_current_user) -> Any:
    """A dependency that yields the signed-in user when they hold one of `roles`.

    `user_from` is how the user is found: the bearer token for the API, the session
    cookie for the web pages; the rule is the same.
    """

    async def check(user: Annotated[User, Depends(user_from)]) -> User:
        return check_roles(user, roles)

    return Depends(check)


# Who may do what (the spec's permission table); the web pages use the same tuples.
CONTRIBUTORS = (Role.rep, Role.expert, Role.admin)  # ask, answer, comment, vote, flag
CURATORS = (Role.expert, Role.admin)  # signposts, learning-need steps (topic checked in services)

Admin = Annotated[User, require_role(Role.admin)]
Contributor = Annotated[User, require_role(*CONTRIBUTORS)]
ComplianceOfficer = Annotated[User, require_role(Role.compliance)]


async def request_context(request: Request) -> AuditContext:
    """The request facts an audit event carries, with no actor yet."""
    return AuditContext(
        request_id=getattr(request.state, "request_id", None),
        client_ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
    )


RequestContext = Annotated[AuditContext, Depends(request_context)]


def actor_of(user: User) -> Actor:
    return Actor(user.id, user.username, tuple(user.roles))


async def audit_context(ctx: RequestContext, user: CurrentUser) -> AuditContext:
    return ctx.as_actor(actor_of(user))


AuditCtx = Annotated[AuditContext, Depends(audit_context)]
