from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from app.questions.models import QuestionStatus
from app.questions.schemas import Tag
from app.schemas import Slug
from search.index_settings import MAX_TOTAL_HITS
from search.query import SortOrder, highlighted

MAX_QUERY_CHARS = 500


class SearchParams(BaseModel):
    """The query string of `GET /search`, validated in one pass."""

    q: str = Field("", max_length=MAX_QUERY_CHARS, description="Words to find; empty lists recent.")
    topic: Slug | None = Field(None, description="A topic slug.")
    tags: list[Tag] = Field(
        default_factory=list, max_length=5, description="Threads with every one of these tags."
    )
    status: QuestionStatus | None = None
    validated: bool | None = Field(
        None, description="Only threads with (or without) a validated answer."
    )
    learning_need: bool | None = Field(
        None, description="Only threads with (or without) an open learning need."
    )
    sort: SortOrder = SortOrder.relevance
    limit: int = Field(20, ge=1, le=100)
    offset: int = Field(0, ge=0, le=MAX_TOTAL_HITS)


class BestAnswer(BaseModel):
    """The thread's best validated answer (the correction, when an expert corrected it)."""

    answer_id: int
    state: str
    excerpt: str


class Highlights(BaseModel):
    """HTML-escaped snippets; matched words are wrapped in `<mark>`."""

    title: str
    body: str


# The models below are read straight from Meilisearch's JSON answer, in one pass of
# pydantic-core (`validation_alias` names Meilisearch's field); they are written out
# under their own names.


class SearchHit(BaseModel):
    id: int
    title: str
    topic: str
    tags: list[str] = []
    status: str
    validated: bool = False
    learning_need: bool = False
    #: Indexed as a Unix timestamp, so it can be sorted on.
    created_at: datetime
    score: int = 0
    answer_count: int = 0
    best_answer: BestAnswer | None = None
    highlights: Highlights = Field(
        default_factory=lambda: Highlights(title="", body=""), validation_alias="_formatted"
    )

    @field_validator("highlights", mode="before")
    @classmethod
    def _marked(cls, formatted: dict[str, Any]) -> dict[str, str]:
        return {
            "title": highlighted(formatted.get("title")),
            "body": highlighted(formatted.get("body")),
        }


class SearchResults(BaseModel):
    query: str
    hits: list[SearchHit]
    #: Meilisearch's estimate, at most the index's `maxTotalHits`.
    estimated_total: int = Field(validation_alias="estimatedTotalHits")
    limit: int
    offset: int
    #: Per facet (topic, tags, status, validated, learning_need): value → number of threads.
    facets: dict[str, dict[str, int]] = Field({}, validation_alias="facetDistribution")
    processing_time_ms: int = Field(validation_alias="processingTimeMs")


class SimilarQuestion(BaseModel):
    id: int
    title: str
    topic: str
    status: str
    validated: bool


class SimilarQuestions(BaseModel):
    items: list[SimilarQuestion] = Field(validation_alias="hits")
