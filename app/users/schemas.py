from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StringConstraints, field_validator

from app.schemas import RequestModel, ResponseModel, Slug, Username
from app.users.models import Role

DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
# An address to send email notifications to (syntax checked; no DNS look-up).
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256, strip_whitespace=False)]


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class UserCreate(RequestModel):
    username: Username
    display_name: DisplayName
    email: Email | None = None
    password: Password
    roles: list[Role] = Field(min_length=1, max_length=4)
    expert_topics: list[Slug] = Field(default_factory=list, max_length=50)

    _dedupe = field_validator("roles", "expert_topics")(_unique)


class UserUpdate(RequestModel):
    display_name: DisplayName | None = None
    email: Email | Literal[""] | None = Field(
        default=None, description='A new address; "" removes it (no email notifications).'
    )
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=4)
    expert_topics: list[Slug] | None = Field(default=None, max_length=50)
    active: bool | None = None

    _dedupe = field_validator("roles", "expert_topics")(lambda v: None if v is None else _unique(v))


class UserOut(ResponseModel):
    id: int
    username: str
    display_name: str
    email: str | None
    roles: list[str]
    expert_topics: list[str]
    active: bool
    reputation: int
    created_at: datetime
