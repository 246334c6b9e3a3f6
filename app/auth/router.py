from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import HTTPAuthorizationCredentials

from app.auth import service
from app.auth.schemas import LoginRequest, TokenOut
from app.deps import AuditCtx, RequestContext, SessionDep, SettingsDep, bearer_credentials
from app.limits.writes import uncounted

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
