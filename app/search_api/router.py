"""`GET /search` and `GET /questions/similar`.

Included before the questions router, so `/questions/similar` is not taken for a
question id.
"""

import logging
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from app.deps import BearerToken, viewer
from app.search_api.errors import SearchUnavailable
from app.search_api.schemas import (
    SearchParams,
    SearchResults,
    SimilarQuestions,
)
from search import client as search_client
from search import query as search
from search.client import Searcher

log = logging.getLogger("vouch.search")

router = APIRouter(tags=["search"])

_Ask = Callable[[Searcher], BaseModel]


def _json(model: BaseModel) -> Response:
    # Serialised once by pydantic-core: the hot path skips FastAPI's re-validation of a
    # response it would only copy (the response_model still documents the shape).
    return Response(model.model_dump_json(), media_type="application/json")


def _ask(request: Request, credentials: HTTPAuthorizationCredentials, ask: _Ask) -> BaseModel:
    """Check the token, then ask Meilisearch: both block, so both run in one trip to the
    thread pool, not two (each trip costs ~0.1 ms)."""
    viewer(request, credentials)
    try:
        return ask(request.app.state.searcher)
    except search_client.SearchUnavailable as exc:
        log.warning("search unavailable: %s", exc)
        raise SearchUnavailable() from None


@router.get("/search", response_model=SearchResults, summary="Search threads")
async def search_threads(
    request: Request, credentials: BearerToken, params: Annotated[SearchParams, Query()]
) -> Response:
    def ask(searcher: Searcher) -> SearchResults:
        answer = search.search_threads(searcher, search.ThreadQuery(**params.model_dump()))
        return SearchResults.model_validate_json(answer)

    return _json(await run_in_threadpool(_ask, request, credentials, ask))


@router.get(
    "/questions/similar",
    response_model=SimilarQuestions,
    summary="Up to five existing questions like the one being asked",
)
async def similar_questions(
    request: Request,
    credentials: BearerToken,
    title: Annotated[str, Query(min_length=1, max_length=200)],
) -> Response:
    def ask(searcher: Searcher) -> SimilarQuestions:
        return SimilarQuestions.model_validate_json(search.similar_threads(searcher, title))

    return _json(await run_in_threadpool(_ask, request, credentials, ask))
