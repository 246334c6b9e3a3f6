from datetime import datetime
from typing import Any

from pydantic import BaseModel

from search.query import created, highlighted


class BestAnswer(BaseModel):
    """The thread's best validated answer (the correction, when an expert corrected it)."""

    answer_id: int
    state: str
    excerpt: str


class Highlights(BaseModel):
    """HTML-escaped snippets; matched words are wrapped in `<mark>`."""

    title: str
    body: str


class SearchHit(BaseModel):
    id: int
    title: str
    topic: str
    tags: list[str]
    status: str
    validated: bool
    learning_need: bool
    created_at: datetime
    score: int
    answer_count: int
    best_answer: BestAnswer | None
    highlights: Highlights

    @classmethod
    def from_meili(cls, hit: dict[str, Any]) -> "SearchHit":
        formatted = hit.get("_formatted") or {}
        return cls(
            id=hit["id"],
            title=hit["title"],
            topic=hit["topic"],
            tags=hit.get("tags") or [],
            status=hit["status"],
            validated=bool(hit.get("validated")),
            learning_need=bool(hit.get("learning_need")),
            created_at=created(hit["created_at"]),
            score=hit.get("score", 0),
            answer_count=hit.get("answer_count", 0),
            best_answer=hit.get("best_answer"),
            highlights=Highlights(
                title=highlighted(formatted.get("title")), body=highlighted(formatted.get("body"))
            ),
        )


class SearchResults(BaseModel):
    query: str
    hits: list[SearchHit]
    #: Meilisearch's estimate, at most the index's `maxTotalHits`.
    estimated_total: int
    limit: int
    offset: int
    #: Per facet (topic, tags, status, validated, learning_need): value → number of threads.
    facets: dict[str, dict[str, int]]
    processing_time_ms: int


class SimilarQuestion(BaseModel):
    id: int
    title: str
    topic: str
    status: str
    validated: bool


class SimilarQuestions(BaseModel):
    items: list[SimilarQuestion]
