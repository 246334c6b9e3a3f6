from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from app.schemas import OneLine, RequestModel, ResponseModel, Slug, UserSummary

Title = Annotated[str, StringConstraints(min_length=10, max_length=200), OneLine]
Body = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Tag = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", max_length=32)]
Tags = Annotated[list[Tag], Field(max_length=5)]


def _distinct(tags: list[str] | None) -> list[str] | None:
    if tags is not None and len(set(tags)) != len(tags):
        raise ValueError("tags must be distinct")
    return tags


class QuestionCreate(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Can a lapsed policy be reinstated after 30 days?",
                    "body": "The customer missed two direct debits. Can we **reinstate**?",
                    "topic": "policy-servicing",
                    "tags": ["lapse", "direct-debit"],
                }
            ]
        }
    )

    title: Title
    body: Body
    topic: Slug
    tags: Tags = Field(default_factory=list)

    _distinct_tags = field_validator("tags")(_distinct)


class QuestionUpdate(RequestModel):
    title: Title | None = None
    body: Body | None = None
    tags: Tags | None = None

    _distinct_tags = field_validator("tags")(_distinct)


class QuestionSummary(ResponseModel):
    id: int
    title: str
    topic: str
    tags: list[str]
    status: str
    author: UserSummary
    revision: int
    created_at: datetime
    updated_at: datetime


class QuestionOut(QuestionSummary):
    body: str


class QuestionRevisionOut(ResponseModel):
    number: int
    title: str
    body: str
    tags: list[str]
    editor: UserSummary
    created_at: datetime
