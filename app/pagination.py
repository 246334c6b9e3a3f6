"""Keyset (cursor) pagination shared by every list endpoint."""

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

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


def encode_cursor(last_id: int) -> str:
    raw = json.dumps({"after": last_id}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a page continues after, or None for the first page; 400 when garbled."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value: Any = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise InvalidCursor("The cursor is not one this API issued.") from None
    # Beyond MAX_ID no key was ever issued, and the database cannot bind the number.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_ID:
        raise InvalidCursor("The cursor is not one this API issued.")
    return value


def next_cursor(rows: Sequence[Any], limit: int, key: str = "id") -> str | None:
    """Callers fetch `limit + 1` rows; a cursor exists only if the extra one came back.

    `key` names the attribute the listing is ordered by.
    """
    if len(rows) <= limit:
        return None
    return encode_cursor(getattr(rows[limit - 1], key))
