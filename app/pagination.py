"""Keyset (cursor) pagination shared by every list endpoint."""

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeGuard, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.errors import InvalidCursor
from app.schemas import MAX_ID

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

PageSize = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Items per page, at most {MAX_PAGE_SIZE}.")
]
CursorParam = Annotated[
    str | None,
    Query(max_length=200, description="The `next_cursor` of the previous page."),
]


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


_NOT_OURS = "The cursor is not one this API issued."


def pack_cursor(position: Any) -> str:
    """An opaque cursor holding a JSON-serialisable listing position."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpack_cursor(cursor: str) -> Any:
    """The position `pack_cursor` put in; 400 `invalid-cursor` when it cannot be read."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidCursor(_NOT_OURS) from None


def is_id(value: Any) -> TypeGuard[int]:
    """A value a cursor may carry as a row id: beyond MAX_ID no key was ever issued, and
    the database cannot bind the number."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ID


def encode_cursor(last_id: int) -> str:
    return pack_cursor({"after": last_id})


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues after, or None for the first page; 400 when garbled."""
    if cursor is None:
        return None
    position = unpack_cursor(cursor)
    value = position.get("after") if isinstance(position, dict) else None
    if not is_id(value):
        raise InvalidCursor(_NOT_OURS)
    return value


def next_cursor(rows: Sequence[Any], limit: int, key: str = "id") -> str | None:
    """Callers fetch `limit + 1` rows; a cursor exists only if the extra one came back.

    `key` names the attribute the listing is ordered by.
    """
    if len(rows) <= limit:
        return None
    return encode_cursor(getattr(rows[limit - 1], key))
