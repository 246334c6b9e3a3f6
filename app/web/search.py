"""The search page: a query box, facets that narrow the search, highlighted hits.

Parameters are the API's (`SearchParams`), validated the same way; the page asks
Meilisearch through the same `search.query.search_threads` and reads the answer into the
same `SearchResults`. When Meilisearch cannot answer, the page still renders (503, with
`Retry-After`, as the API answers) with a notice pointing to the questions, which do not
need search.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.datastructures import QueryParams
from starlette.responses import Response

from app.deps import SessionDep
from app.search_api.schemas import SearchHit, SearchParams, SearchResults
from app.topics.service import list_topics
from app.web.forms import FORM, FormRefused, errors_of
from app.web.render import STATUS_LABELS, is_htmx, render
from app.web.session import PageUser
from search.client import SearchUnavailable
from search.index_settings import MAX_TOTAL_HITS
from search.query import SortOrder, ThreadQuery, search_threads

log = logging.getLogger("vouch.search")

router = APIRouter()

TEMPLATE = "search/search.html"
RETRY_AFTER_SECONDS = "5"
_SINGLE = ("q", "topic", "status", "validated", "learning_need", "sort", "limit", "offset")
_DEFAULTS = SearchParams()

SORTS = [
    (SortOrder.relevance.value, "Best match"),
    (SortOrder.newest.value, "Newest"),
    (SortOrder.score.value, "Most votes"),
]
# What a person reads for each facet and value; topics are named from the database.
FACET_TITLES = {
    "topic": "Topic",
    "validated": "Expert validation",
    "status": "Status",
    "learning_need": "Learning need",
    "tags": "Tags",
}
FLAG_LABELS = {
    "validated": {"true": "Expert-validated", "false": "Not yet validated"},
    "learning_need": {"true": "Has a learning need", "false": "No learning need"},
}
# Filters arrive in the address (from facet links), not typed into a field: say what is
# wrong with them in words, at the top of the form.
FILTER_PROBLEMS = {
    "topic": "The topic filter is not a topic name this site uses.",
    "tags": "The tag filter is not valid: at most 5 tags, each lowercase letters, digits "
    "and hyphens.",
    "status": "The status filter must be open, resolved or closed.",
    "validated": "The expert-validated filter must be true or false.",
    "learning_need": "The learning-need filter must be true or false.",
    "limit": "The number of results per page must be between 1 and 100.",
    "offset": f"The page must start between result 0 and {MAX_TOTAL_HITS}.",
}


@dataclass(frozen=True)
class FacetValue:
    label: str
    count: int
    href: str
    selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    title: str
    values: list[FacetValue]


@dataclass(frozen=True)
class Hit:
    id: int
    #: HTML: Meilisearch's text escaped, matches in <mark> (see `search.query.highlighted`).
    title: Markup
    snippet: Markup
    topic_slug: str
    topic_name: str
    tags: list[str]
    status: str
    created_at: datetime
    answer_count: int
    validated: bool
    learning_need: bool
    best_state: str | None
    best_excerpt: Markup | None


def raw_params(query: QueryParams) -> dict[str, Any]:
    """The search parameters as sent; empty fields (a form's blank choice) count as absent."""
    raw: dict[str, Any] = {n: v for n in _SINGLE if (v := query.get(n)) not in (None, "")}
    tags = [t for t in query.getlist("tags") if t]
    if tags:
        raw["tags"] = tags
    return raw


def search_url(params: SearchParams, **changes: Any) -> str:
    """The search page for `params` with `changes` applied; a changed filter starts again
    at the first result."""
    values = params.model_dump()
    values.update(changes)
    if any(name != "offset" for name in changes):
        values["offset"] = 0
    pairs: list[tuple[str, str]] = []
    if values["q"]:
        pairs.append(("q", values["q"]))
    for name in ("topic", "status"):
        if values[name] is not None:
            pairs.append((name, str(values[name])))
    pairs.extend(("tags", tag) for tag in values["tags"])
    for name in ("validated", "learning_need"):
        if values[name] is not None:
            pairs.append((name, str(values[name]).lower()))
    if values["sort"] != _DEFAULTS.sort:
        pairs.append(("sort", str(values["sort"])))
    if values["limit"] != _DEFAULTS.limit:
        pairs.append(("limit", str(values["limit"])))
    if values["offset"]:
        pairs.append(("offset", str(values["offset"])))
    return "/search?" + urlencode(pairs) if pairs else "/search"


_WORD = re.compile(r"\w+")


def mark_words(text: str, query: str) -> Markup:
    """`text` HTML-escaped, with each word that begins with a word of `query` in <mark>:
    the highlighting Meilisearch does for the fields it formats, for the best answer's
    excerpt, which it returns as stored."""
    words = sorted({w.lower() for w in _WORD.findall(query) if len(w) > 1}, key=len)[-10:]
    if not words:
        return escape(text)
    pattern = re.compile(
        r"\b(?:" + "|".join(re.escape(w) for w in reversed(words)) + r")\w*", re.IGNORECASE
    )
    parts, last = [], 0
    for match in pattern.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup("<mark>%s</mark>") % match.group())
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _hit(hit: SearchHit, query: str, topics: dict[str, str]) -> Hit:
    best = hit.best_answer
    return Hit(
        id=hit.id,
        # Safe as HTML: `search.query.highlighted` escaped Meilisearch's text and added
        # only <mark> tags (the hostile-title test holds it to that).
        title=Markup(hit.highlights.title) if hit.highlights.title else escape(hit.title),
        snippet=Markup(hit.highlights.body),
        topic_slug=hit.topic,
        topic_name=topics.get(hit.topic, hit.topic),
        tags=hit.tags,
        status=hit.status,
        created_at=hit.created_at,
        answer_count=hit.answer_count,
        validated=hit.validated and best is not None,
        learning_need=hit.learning_need,
        best_state=best.state if best else None,
        best_excerpt=mark_words(best.excerpt, query) if best else None,
    )


def _facets(params: SearchParams, results: SearchResults, topics: dict[str, str]) -> list[Facet]:
    def counts(name: str) -> list[tuple[str, int]]:
        found = results.facets.get(name, {})
        return sorted(found.items(), key=lambda item: (-item[1], item[0]))

    facets = []
    for name, title in FACET_TITLES.items():
        values = []
        for value, count in counts(name):
            if name == "topic":
                selected = params.topic == value
                label = topics.get(value, value)
                href = search_url(params, topic=None if selected else value)
            elif name == "tags":
                selected = value in params.tags
                if not selected and len(params.tags) >= 5:
                    continue
                label = value
                kept = [t for t in params.tags if t != value]
                href = search_url(params, tags=kept if selected else [*params.tags, value])
            elif name == "status":
                selected = params.status == value
                label = STATUS_LABELS.get(value, value)
                href = search_url(params, status=None if selected else value)
            else:
                flag = value == "true"
                selected = getattr(params, name) is flag
                label = FLAG_LABELS[name].get(value, value)
                href = search_url(params, **{name: None if selected else flag})
            values.append(FacetValue(label, count, href, selected))
        if values:
            facets.append(Facet(name, title, values))
    return facets


def _filtered(params: SearchParams) -> bool:
    return bool(
        params.topic
        or params.tags
        or params.status
        or params.validated is not None
        or params.learning_need is not None
    )


def _form(raw: dict[str, Any], topics: dict[str, str]) -> dict[str, Any]:
    """What the search form shows: the values as sent, so a refused search keeps them."""
    return {
        "search_query": raw.get("q", ""),
        "form": {
            "q": raw.get("q", ""),
            "sort": raw.get("sort", _DEFAULTS.sort.value),
            "validated_only": raw.get("validated") == "true",
            # Kept as hidden fields: the facets chosen so far stay chosen on a new search.
            "kept": [
                (name, raw[name]) for name in ("topic", "status", "learning_need") if name in raw
            ]
            + [("tags", tag) for tag in raw.get("tags", [])],
        },
        "sorts": SORTS,
        "topics": topics,
    }


def _refused(exc: ValidationError) -> dict[str, str]:
    errors = errors_of(exc)
    problems = [FILTER_PROBLEMS[name] for name in errors if name in FILTER_PROBLEMS]
    shown = {name: message for name, message in errors.items() if name not in FILTER_PROBLEMS}
    if problems:
        shown[FORM] = " ".join(problems)
    return shown


@router.get("/search")
def search_page(request: Request, session: SessionDep, user: PageUser) -> Response:
    raw = raw_params(request.query_params)
    topics = {t.slug: t.name for t in list_topics(session, 100, None)}
    context = _form(raw, topics)
    try:
        params = SearchParams.model_validate(raw)
    except ValidationError as exc:
        raise FormRefused(TEMPLATE, {**context, "searched": False}, _refused(exc)) from None
    try:
        answer = search_threads(request.app.state.searcher, ThreadQuery(**params.model_dump()))
    except SearchUnavailable as exc:
        log.warning("search unavailable: %s", exc)
        if is_htmx(request):
            # htmx does not swap an error response: load the whole page, which explains.
            return Response(status_code=503, headers={"HX-Redirect": search_url(params)})
        return render(
            request,
            TEMPLATE,
            {**context, "searched": False, "unavailable": True},
            status=503,
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        )
    results = SearchResults.model_validate_json(answer)
    end = params.offset + len(results.hits)
    more = params.offset + params.limit < min(results.estimated_total, MAX_TOTAL_HITS)
    context |= {
        "searched": True,
        "query": params.q,
        "hits": [_hit(h, params.q, topics) for h in results.hits],
        "total": results.estimated_total,
        "first": params.offset + 1,
        "last": end,
        "facets": _facets(params, results, topics),
        "filtered": _filtered(params),
        "clear_url": search_url(
            params, topic=None, tags=[], status=None, validated=None, learning_need=None
        ),
        "previous_url": search_url(params, offset=max(0, params.offset - params.limit))
        if params.offset
        else None,
        "next_url": search_url(params, offset=params.offset + params.limit) if more else None,
    }
    return render(request, TEMPLATE, context, block="results" if is_htmx(request) else None)
