from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from app.auth import personal_tokens, service
from app.auth.schemas import (
    LoginRequest,
    PersonalTokenCreated,
    PersonalTokenIn,
    PersonalTokenList,
    PersonalTokenOut,
    TokenOut,
)
from app.deps import (
    AuditCtx,
    BearerToken,
    CurrentUser,
    RequestContext,
    SessionDep,
    SettingsDep,
    bearer_credentials,
)
from app.limits.writes import uncounted
from app.schemas import ObjectId

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token", response_model=TokenOut, summary="Log in and get a bearer token")
def issue_token(
    session: SessionDep, settings: SettingsDep, ctx: RequestContext, body: LoginRequest
) -> TokenOut:
    token, expires_at = service.login(session, settings, ctx, body.username, body.password)
    return TokenOut(access_token=token, expires_at=expires_at)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke the token in use")
@uncounted
def logout(
    session: SessionDep,
    settings: SettingsDep,
    ctx: AuditCtx,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer_credentials)],
) -> None:
    service.logout(session, settings, ctx, credentials.credentials)


# -- personal access tokens: each person's own, whatever their role --------------------


@router.get(
    "/tokens",
    response_model=PersonalTokenList,
    summary="My personal access tokens, newest first (never their secrets)",
)
def list_personal_tokens(session: SessionDep, user: CurrentUser) -> PersonalTokenList:
    tokens = personal_tokens.listing(session, user)
    return PersonalTokenList(items=[PersonalTokenOut.model_validate(t) for t in tokens])


@router.post(
    "/tokens",
    response_model=PersonalTokenCreated,
    status_code=status.HTTP_201_CREATED,
    summary="Make a personal access token; its secret is in the answer, and only there",
)
def create_personal_token(
    session: SessionDep,
    settings: SettingsDep,
    ctx: AuditCtx,
    user: CurrentUser,
    credentials: BearerToken,
    body: PersonalTokenIn,
    response: Response,
) -> PersonalTokenCreated:
    # A secret in the answer: no cache may keep it (as for OAuth token responses).
    response.headers["Cache-Control"] = "no-store"
    row, secret = personal_tokens.create(
        session,
        settings,
        ctx,
        user,
        body.name,
        body.expires_in_days,
        used_token=credentials.credentials,
    )
    return PersonalTokenCreated(
        id=row.id,
        name=body.name,
        created_at=row.created_at,
        expires_at=row.expires_at,
        token=secret,
    )


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of my personal access tokens (409 when it already is)",
)
@uncounted
def revoke_personal_token(
    session: SessionDep, ctx: AuditCtx, user: CurrentUser, token_id: ObjectId
) -> Response:
    personal_tokens.revoke(session, ctx, user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
