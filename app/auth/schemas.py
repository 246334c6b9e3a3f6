from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from app.auth.personal_tokens import DEFAULT_DAYS, MAX_DAYS
from app.schemas import OneLine, RequestModel, ResponseModel


class LoginRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "alice", "password": "a long passphrase"}]}
    )

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)
    ]


class TokenOut(ResponseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime


class PersonalTokenIn(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"name": "nightly report", "expires_in_days": 30}]}
    )

    name: Annotated[
        str,
        StringConstraints(min_length=1, max_length=100),
        OneLine,
        Field(description="What the token is for, as its holder will recognise it."),
    ]
    # Strict: JSON `true` is not one day, nor "30" a number.
    expires_in_days: StrictInt = Field(
        DEFAULT_DAYS, ge=1, le=MAX_DAYS, description="Days until it expires."
    )


class PersonalToken(ResponseModel):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime


class PersonalTokenOut(PersonalToken):
    """A personal access token as listed: never its secret."""

    revoked_at: datetime | None


class PersonalTokenCreated(PersonalToken):
    token: str = Field(
        description="The secret, to send as `Authorization: Bearer`; shown only this once."
    )


class PersonalTokenList(ResponseModel):
    items: list[PersonalTokenOut] = Field(
        description="The caller's personal access tokens, newest first."
    )
