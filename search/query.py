"""Building Meilisearch queries from validated parameters, and reading their results.

Filters are built here and only here: every value is quoted and escaped, so no
input can change a filter's structure (no `OR`, no `=`, no closing quote).
"""

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from search.client import Searcher

FACETS = ("topic", "tags", "status", "validated", "learning_need")
RETRIEVED = (
    "id",
    "title",
    "topic",
    "tags",
    "status",
    "validated",
    "learning_need",
    "created_at",
    "score",
    "answer_count",
    "best_answer",
)
CROP_WORDS = 30
# Private-use characters mark highlights inside Meilisearch's answer; the text is then
# HTML-escaped and only the markers become <mark> tags, so highlights are safe to render.
_PRE, _POST = "\ue000", "\ue001"
SIMILAR_LIMIT = 5


class SortOrder(StrEnum):
    relevance = "relevance"
    newest = "newest"
    score = "score"


@dataclass(frozen=True)
class ThreadQuery:
    q: str = ""
    topic: str | None = None
    tags: Sequence[str] = field(default_factory=tuple)
    status: str | None = None
    validated: bool | None = None
    learning_need: bool | None = None
    sort: SortOrder = SortOrder.relevance
    limit: int = 20
    offset: int = 0


def quote(value: str) -> str:
    """A filter string literal holding exactly `value`."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_filter(query: ThreadQuery) -> list[str]:
    """The filter as a list of conditions Meilisearch ANDs together."""
    conditions = []
    if query.topic is not None:
        conditions.append(f"topic = {quote(query.topic)}")
    conditions.extend(f"tags = {quote(tag)}" for tag in query.tags)
    if query.status is not None:
        conditions.append(f"status = {quote(query.status)}")
    if query.validated is not None:
        conditions.append(f"validated = {str(query.validated).lower()}")
    if query.learning_need is not None:
        conditions.append(f"learning_need = {str(query.learning_need).lower()}")
    return conditions


def search_params(query: ThreadQuery) -> dict[str, Any]:
    """The body of the Meilisearch search request for `query` (without `q`)."""
    params: dict[str, Any] = {
        "limit": query.limit,
        "offset": query.offset,
        "filter": build_filter(query),
        "facets": list(FACETS),
        "attributesToRetrieve": list(RETRIEVED),
        "attributesToHighlight": ["title", "body"],
        "attributesToCrop": ["body"],
        "cropLength": CROP_WORDS,
        "highlightPreTag": _PRE,
        "highlightPostTag": _POST,
    }
    sort = query.sort
    if sort is SortOrder.relevance and not query.q.strip():
        # No words to rank by: an empty query lists the most recent threads.
        sort = SortOrder.newest
    if sort is SortOrder.newest:
        params["sort"] = ["created_at:desc"]
    elif sort is SortOrder.score:
        params["sort"] = ["score:desc", "created_at:desc"]
    return params


def search_threads(searcher: Searcher, query: ThreadQuery) -> bytes:
    """Meilisearch's JSON answer for `query`; `SearchUnavailable` when it cannot answer."""
    return searcher.search({"q": query.q, **search_params(query)})


def similar_threads(searcher: Searcher, title: str) -> bytes:
    """Up to five threads that match `title`; the ranking rules put title matches first.

    (Not `attributesToSearchOn`: Meilisearch refuses it on an index with no documents yet.)
    """
    return searcher.search(
        {
            "q": title,
            "limit": SIMILAR_LIMIT,
            "attributesToRetrieve": ["id", "title", "topic", "status", "validated"],
        }
    )


def highlighted(text: str | None) -> str:
    """Meilisearch's highlighted text, HTML-escaped, with matches wrapped in <mark>."""
    if not text:
        return ""
    return html.escape(text).replace(_PRE, "<mark>").replace(_POST, "</mark>")
