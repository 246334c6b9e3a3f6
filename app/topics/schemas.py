from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints

from app.schemas import RequestModel, ResponseModel, Slug

TopicName = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Description = Annotated[str, StringConstraints(max_length=2000)]


def _not_a_boolean(value: Any) -> Any:
    # pydantic reads JSON `true` as the number 1; nobody sending it meant one day. Numbers
    # as text stay accepted: the admin pages' forms send them so.
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    return value


NotBoolean = BeforeValidator(_not_a_boolean)
RequiredEndorsements = Annotated[int, NotBoolean, Field(ge=1, le=10)]
ReviewInterval = Annotated[int, NotBoolean, Field(ge=1, le=3650)]


class TopicCreate(RequestModel):
    slug: Slug
    name: TopicName
    description: Description = ""
    required_endorsements: RequiredEndorsements = 1
    review_interval_days: ReviewInterval | None = None


class TopicUpdate(RequestModel):
    """Only the fields sent are changed; `review_interval_days: null` turns staleness off."""

    name: TopicName | None = None
    description: Description | None = None
    required_endorsements: RequiredEndorsements | None = None
    review_interval_days: ReviewInterval | None = None


class TopicOut(ResponseModel):
    id: int
    slug: str
    name: str
    description: str
    required_endorsements: int
    review_interval_days: int | None
    created_at: datetime
