from datetime import datetime
from typing import Annotated, Literal

from pydantic import EmailStr, Field, StrictBool, StringConstraints, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.auth.password_policy import MAX_LENGTH, MIN_LENGTH, password_problem
from app.schemas import OneLine, RequestModel, ResponseModel, Slug, Username
from app.users.models import Role

DisplayName = Annotated[str, StringConstraints(min_length=1, max_length=120), OneLine]
# An address to send email notifications to (syntax checked; no DNS look-up).
Email = Annotated[EmailStr, StringConstraints(max_length=254)]
# A local account's password. Its rules (`app.auth.password_policy`) are checked by the
# models that know the username, each with a message naming the rule; the schema shows
# the lengths.
Password = Annotated[
    str,
    StringConstraints(strip_whitespace=False),
    Field(
        description="At least 12 characters, not containing the username, not a common one.",
        json_schema_extra={"minLength": MIN_LENGTH, "maxLength": MAX_LENGTH},
    ),
]


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

    @field_validator("password")
    @classmethod
    def _meets_the_policy(cls, password: str, info: ValidationInfo) -> str:
        # `username` comes first, so it is here when it was valid.
        problem = password_problem(password, info.data.get("username"))
        if problem is not None:
            raise PydanticCustomError("password_policy", problem)
        return password


class UserUpdate(RequestModel):
    display_name: DisplayName | None = None
    email: Email | Literal[""] | None = Field(
        default=None, description='A new address; "" removes it (no email notifications).'
    )
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=4)
    expert_topics: list[Slug] | None = Field(default=None, max_length=50)
    # Strict: JSON `0` or "no" is refused, not read as false (deactivating someone by accident).
    active: StrictBool | None = None

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
