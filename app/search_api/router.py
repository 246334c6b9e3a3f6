"""`GET /search` and `GET /questions/similar`.

Included before the questions router, so `/questions/similar` is not taken for a
question id.
"""

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from meilisearch.index import Index
from pydantic import BaseModel

from app.config import Settings
from app.deps import CurrentUser
from app.questions.models import QuestionStatus
from app.questions.schemas import Tag
from app.schemas import Slug
from app.search_api.errors import SearchUnavailable
from app.search_api.schemas import SearchHit, SearchResults, SimilarQuestion, SimilarQuestions
from search import query as search
from search.client import ThreadLocalClients
from search.index_settings import MAX_TOTAL_HITS

log = logging.getLogger("vouch.search")

router = APIRouter(tags=["search"])

MAX_QUERY_CHARS = 500


def _index(request: Request) -> Index:
    clients: ThreadLocalClients = request.app.state.search_clients
    settings: Settings = request.app.state.settings
    return clients.index(settings.meili_index)


def _json(model: BaseModel) -> Response:
    # Serialised once by pydantic-core: the hot path skips FastAPI's re-validation of a
    # response it would only copy (the response_model still documents the shape).
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("/search", response_model=SearchResults, summary="Search threads")
def search_threads(
    request: Request,
    _user: CurrentUser,
    q: Annotated[
        str, Query(max_length=MAX_QUERY_CHARS, description="Words to find; empty lists recent.")
    ] = "",
    topic: Annotated[Slug | None, Query(description="A topic slug.")] = None,
    tags: Annotated[
        list[Tag] | None, Query(max_length=5, description="Threads with every one of these tags.")
    ] = None,
    status: QuestionStatus | None = None,
    validated: Annotated[
        bool | None, Query(description="Only threads with (or without) a validated answer.")
    ] = None,
    learning_need: Annotated[
        bool | None, Query(description="Only threads with (or without) an open learning need.")
    ] = None,
    sort: search.SortOrder = search.SortOrder.relevance,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_TOTAL_HITS)] = 0,
) -> Response:
    thread_query = search.ThreadQuery(
        q=q,
        topic=topic,
        tags=tuple(tags or ()),
        status=status,
        validated=validated,
        learning_need=learning_need,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    try:
        raw = search.search_threads(_index(request), thread_query)
    except search.SearchUnavailable as exc:
        log.warning("search unavailable: %s", exc)
        raise SearchUnavailable() from None
    results = SearchResults(
        query=q,
        hits=[SearchHit.from_meili(hit) for hit in raw["hits"]],
        estimated_total=raw.get("estimatedTotalHits", 0),
        limit=limit,
        offset=offset,
        facets=raw.get("facetDistribution") or {},
        processing_time_ms=raw.get("processingTimeMs", 0),
    )
    return _json(results)


@router.get(
    "/questions/similar",
    response_model=SimilarQuestions,
    summary="Up to five existing questions like the one being asked",
)
def similar_questions(
    request: Request,
    _user: CurrentUser,
    title: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    try:
        raw = search.similar_threads(_index(request), title)
    except search.SearchUnavailable as exc:
        log.warning("search unavailable: %s", exc)
        raise SearchUnavailable() from None
    return _json(SimilarQuestions(items=[SimilarQuestion.model_validate(h) for h in raw["hits"]]))
