"""Reading a Stack Exchange dump: one XML file at a time, one row at a time.

Each file is `<rows><row Attr="…"/>…</rows>`. `rows()` streams it with iterparse and
clears every element once read, so memory stays flat whatever the file's size.
"""

import re
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from xml.etree.ElementTree import ParseError, iterparse

MAX_TAGS = 5
_SLUG_CHARS = re.compile(r"[^a-z0-9]+")
_ID = re.compile(r"[0-9]{1,10}")
MAX_TAG = 32  # the question tag rule (app/questions/schemas.py)


class DumpError(Exception):
    """A fault of a whole file (missing, malformed): the import stops with this message."""


def rows(path: Path, progress: Callable[[int], None] | None = None) -> Iterator[dict[str, str]]:
    """The attributes of each `<row>` of `path`, in file order.

    `progress` is told how many bytes of the file have been read so far. Malformed XML
    raises `DumpError` naming the file, line and column, after the rows before it.
    """
    with path.open("rb") as file:
        events = iterparse(file, events=("start", "end"))
        try:
            _, root = next(events)
            for event, element in events:
                if event != "end" or element.tag != "row":
                    continue
                yield dict(element.attrib)
                element.clear()
                root.clear()  # drop the finished rows the root still holds
                if progress is not None:
                    progress(file.tell())
        except ParseError as exc:
            line, column = exc.position
            raise DumpError(
                f"{path.name}: malformed XML at line {line}, column {column + 1}"
            ) from None
        except StopIteration:
            raise DumpError(f"{path.name}: the file is empty") from None


def timestamp(value: str | None) -> datetime | None:
    """A dump time ('2018-02-06T20:19:50.957', UTC) as an aware datetime; None if absent."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    except ValueError:
        return None


def identifier(value: str | None) -> int | None:
    """A positive 32-bit id, or None (absent, not a number, zero, negative or too large)."""
    text = (value or "").strip()
    if not _ID.fullmatch(text):
        return None
    number = int(text)
    return number if 0 < number <= 2_147_483_647 else None


def slug(text: str, max_length: int = 63) -> str:
    """A tag or site name as a Vouch slug: ascii lowercase letters, digits and hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = ascii_text.lower().replace("+", "plus").replace("#", "sharp")
    return _SLUG_CHARS.sub("-", words).strip("-")[:max_length].rstrip("-")


def tags(value: str | None) -> list[str]:
    """A post's tags ('<a><b>' in older dumps, '|a|b|' in newer ones) as at most five
    distinct slugs, in their order."""
    if not value:
        return []
    names = re.findall(r"<([^<>]+)>", value) or value.strip("|").split("|")
    found: list[str] = []
    for name in names:
        tag = slug(name, MAX_TAG)
        if tag and tag not in found:
            found.append(tag)
    return found[:MAX_TAGS]
