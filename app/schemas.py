"""Schema building blocks shared by every domain."""

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _max_lengths(model: type[BaseModel]) -> dict[str, int]:
    """Each text field's `maxLength` as the request schema publishes it."""
    found: dict[str, int] = {}
    for name, schema in model.model_json_schema()["properties"].items():
        for option in [schema, *schema.get("anyOf", [])]:
            if "maxLength" in option:
                found[name] = option["maxLength"]
    return found


_MAX_LENGTHS: dict[type[BaseModel], dict[str, int]] = {}


class RequestModel(BaseModel):
    """A request body: unknown fields are rejected, so privileged fields cannot be smuggled.

    Text is trimmed of surrounding whitespace; its maximum length counts it as sent, as
    the schema says, and its minimum once trimmed (a blank text is empty).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _cap_as_sent(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and info.field_name is not None:
            if cls not in _MAX_LENGTHS:
                _MAX_LENGTHS[cls] = _max_lengths(cls)
            cap = _MAX_LENGTHS[cls].get(info.field_name)
            if cap is not None and len(value) > cap:
                raise PydanticCustomError(
                    "string_too_long",
                    "String should have at most {max_length} characters",
                    {"max_length": cap},
                )
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it up front, alike on every backend.
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value


def one_line(value: str) -> str:
    """Refuse control characters (line breaks, tabs, escapes) in a text that is shown on
    one line and travels in headers: a title becomes an email's subject."""
    if any(unicodedata.category(c) == "Cc" for c in value):
        raise ValueError("must be one line, without control characters")
    return value


OneLine = AfterValidator(one_line)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", max_length=63)]
Username = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{2,63}$", min_length=3, max_length=64)
]


class UserSummary(ResponseModel):
    """How a person appears next to what they wrote."""

    id: int
    username: str
    display_name: str


# Ids are 32-bit on PostgreSQL; a larger number can only be a miss, never a row.
MAX_ID = 2_147_483_647
ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id.")]


def as_utc(value: datetime | None) -> datetime | None:
    """An aware UTC time; a time given without a zone is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


def iso_only(value: Any) -> Any:
    """Refuse a number where a date and time is documented: pydantic would read `0.5` as
    seconds since 1970, which nobody sending it meant."""
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, int | float) or (isinstance(text, str) and _NUMBER.fullmatch(text)):
        raise ValueError("must be an ISO 8601 date and time, not a number")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

# A timestamp in a query string or body, normalised to UTC (422 when it cannot be).
UTCTimestamp = Annotated[datetime, BeforeValidator(iso_only), AfterValidator(as_utc)]
